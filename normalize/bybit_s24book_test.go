package normalize

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// bybitBookFrame is a Bybit v5 "Orderbook" push of orderbook.50 whose seq,
// the cross sequence, is the next of bybitBookSeq: generated after every
// frame built before it ("for the smaller seq, then it means the data is
// generated earlier"), so a restart's u = 1 built after u = 501 is newer
// than it, as the venue's is. (It was 9000 + u, a restart then generated
// before the data it follows.)
func bybitBookFrame(typ string, u int) []byte {
	return fmt.Appendf(nil, `{"topic":"orderbook.50.BTCUSDT","type":%q,"ts":1700000000000,"data":{"s":"BTCUSDT","b":[["100","1"]],"a":[["101","1"]],"u":%d,"seq":%d},"cts":1700000000000}`, typ, u, 9000+bybitBookSeq.Add(1))
}

var bybitBookSeq atomic.Int64

// Bybit v5 "Orderbook": "Occasionally, you'll receive "u"=1, which is a
// snapshot data due to the restart of the service. So please overwrite
// your local orderbook." A message with u = 1 is published as an
// EventBookSnapshot whatever its "type" says, so that a host keeping its
// own book from the events replaces the book instead of merging the
// restart's levels into the stale ones; the deltas after it continue it.
func TestBybitRestartIsSnapshot(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewBybit(events, sink, nil)
	ctx := context.Background()
	for i, m := range [][]byte{bybitBookFrame("snapshot", 500), bybitBookFrame("delta", 501), bybitBookFrame("delta", 1), bybitBookFrame("delta", 2)} {
		require.NoError(t, p.HandleBytes(ctx, m, int64(i+1)))
	}
	require.Len(t, sink.got, 4)
	assert.Equal(t, schema.EventBookSnapshot, sink.got[0].Type)
	assert.Equal(t, schema.EventBookUpdate, sink.got[1].Type)
	assert.Equal(t, schema.EventBookSnapshot, sink.got[2].Type, "u = 1 is snapshot data")
	assert.Equal(t, uint64(1), sink.got[2].Book.LastSeq)
	assert.Equal(t, schema.EventBookUpdate, sink.got[3].Type)
	assert.Zero(t, p.Stats().Gaps)
	assert.Zero(t, events.Stats().InUse)
}

// Every Bybit orderbook message carries its update id u (Bybit v5
// "Orderbook": "u: Update ID"), the only continuity check Bybit offers:
// a message without it is malformed, a *ParseError naming "u" — not a
// snapshot at position 0, whose next delta would read as a gap, nor a
// delta applied unchecked.
func TestBybitBookRequiresUpdateID(t *testing.T) {
	for _, typ := range []string{"snapshot", "delta"} {
		msg := `{"topic":"orderbook.50.BTCUSDT","type":"` + typ + `","ts":1,"data":{"s":"BTCUSDT","b":[],"a":[],"seq":1}}`
		sink, events, err := handleOne(t, "bybit", msg)
		requireParseError(t, err, "u", ErrMissingField)
		assert.Empty(t, sink.got, typ)
		assert.Zero(t, events.Stats().InUse)
	}
}

// Bybit v5 "Full Orderbook" (orderbook.full.{symbol}, live on spot since
// July 2026): deltas only, with no snapshot on the stream, and u = 1
// meaning "clear and re-sync from REST" (delist, auction, lot change)
// rather than snapshot data. Not normalised: counted unknown, never
// published as book diffs that no snapshot starts, and never a u = 1
// "snapshot" that empties a book.
func TestBybitFullOrderbookNotNormalised(t *testing.T) {
	for _, u := range []int{1, 42} {
		msg := fmt.Sprintf(`{"topic":"orderbook.full.BTCUSDT","type":"delta","ts":1700000000000,"data":{"s":"BTCUSDT","b":[],"a":[],"u":%d,"seq":7},"cts":1700000000000}`, u)
		sink, events, err := handleOne(t, "bybit", msg)
		require.NoError(t, err)
		assert.Empty(t, sink.got)
		assert.Zero(t, events.Stats().InUse)
	}
}
