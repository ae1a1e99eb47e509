package meltica_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
)

func s34ctBybitBook(depth int, typ string, u uint64, ts int64, bids, asks string) string {
	return fmt.Sprintf(`{"topic":"orderbook.%d.BTCUSDT","type":%q,"ts":%d,"data":{"s":"BTCUSDT","b":[%s],"a":[%s],"u":%d,"seq":%d},"cts":%d}`,
		depth, typ, ts, bids, asks, u, 7961638724+s34ctBybitSeq.Add(1), ts-2)
}

// s34ctBybitSeq numbers the Bybit book messages the tests build: seq, the
// cross sequence, grows with the data the venue generates ("for the
// smaller seq, then it means the data is generated earlier", Bybit v5
// "Orderbook"), so a message built later is newer, as the tests mean — a
// restart's u = 1 after u = 500 included. (It was 7961638724 + u: a
// restart then looked generated before the data it follows, and the
// parser drops such a late copy.)
var s34ctBybitSeq atomic.Uint64

// Bybit v5 "Orderbook": "Level 1 data, if 3 seconds have elapsed without
// a change in the orderbook, a snapshot message will be pushed again, and
// the field u will be the same as that in the previous message." The
// re-pushed snapshot (same u) is neither a gap nor a restart, and the
// delta after it (u + 1) continues the book: live throughout, no marker,
// the venue's top served.
func TestS34ctBybitLevel1RepushedSnapshot(t *testing.T) {
	rule, err := book.Bybit.WithDepth(1)
	require.NoError(t, err)
	w := newS31ctWireBook(t, rule, "BTC-USDT", func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewBybit(p.Events, s, nil)
	})
	ts := int64(1672304484978)
	require.NoError(t, w.feed(s34ctBybitBook(1, "snapshot", 100, ts, `["100.0","1"]`, `["101.0","2"]`)))
	require.NoError(t, w.feed(s34ctBybitBook(1, "delta", 101, ts+10, `["100.0","3"]`, "")))
	assert.Equal(t, "100.0x3 | 101.0x2", w.levels(1))
	// Three quiet seconds: the same book again, u unchanged.
	require.NoError(t, w.feed(s34ctBybitBook(1, "snapshot", 101, ts+3010, `["100.0","3"]`, `["101.0","2"]`)))
	assert.Equal(t, "100.0x3 | 101.0x2", w.levels(1), "the re-pushed snapshot")
	require.NoError(t, w.feed(s34ctBybitBook(1, "delta", 102, ts+3020, "", `["101.0","0"],["101.5","4"]`)))
	assert.Equal(t, "100.0x3 | 101.5x4", w.levels(1), "the delta after it")
	require.NoError(t, w.feed(s34ctBybitBook(1, "snapshot", 102, ts+6020, `["100.0","3"]`, `["101.5","4"]`)))
	require.NoError(t, w.feed(s34ctBybitBook(1, "snapshot", 102, ts+9020, `["100.0","3"]`, `["101.5","4"]`)))
	require.NoError(t, w.feed(s34ctBybitBook(1, "delta", 103, ts+9030, `["100.5","1"]`, "")))
	assert.Equal(t, "100.5x1 | 101.5x4", w.levels(1), "two re-pushes, then a delta")
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
	assert.Zero(t, w.resubscribes())
}

// Bybit v5 "Orderbook": "If you receive a new snapshot message, you will
// have to reset your local orderbook." A snapshot mid-stream — the
// service's own resend, with a u below the stream's after a restart and a
// later ts — replaces the book: nothing of the old book survives, and
// the deltas chain from its u.
func TestS34ctBybitSnapshotMidStreamResets(t *testing.T) {
	w := newS31ctWireBook(t, book.Bybit, "BTC-USDT", func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewBybit(p.Events, s, nil)
	})
	ts := int64(1672304484978)
	require.NoError(t, w.feed(s34ctBybitBook(50, "snapshot", 5000, ts, `["100.0","1"],["99.0","2"]`, `["101.0","1"],["102.0","2"]`)))
	require.NoError(t, w.feed(s34ctBybitBook(50, "delta", 5001, ts+20, `["98.0","7"]`, "")))
	require.NoError(t, w.feed(s34ctBybitBook(50, "snapshot", 5002, ts+40, `["100.0","4"]`, `["101.0","5"]`)))
	assert.Equal(t, "100.0x4 | 101.0x5", w.levels(50), "a snapshot replaces the book")
	require.NoError(t, w.feed(s34ctBybitBook(50, "snapshot", 12, ts+60, `["100.5","1"]`, `["101.5","1"]`)))
	assert.Equal(t, "100.5x1 | 101.5x1", w.levels(50), "a later snapshot with a lower u replaces it too")
	require.NoError(t, w.feed(s34ctBybitBook(50, "delta", 13, ts+80, `["100.4","2"]`, "")))
	assert.Equal(t, "100.5x1 100.4x2 | 101.5x1", w.levels(50), "deltas chain from the new u")
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
}

// Binance USDⓈ-M "How to manage a local order book correctly": the first
// event applied has "U <= lastUpdateId AND u >= lastUpdateId" — a diff
// whose u is exactly the snapshot's lastUpdateId joins (futures, unlike
// spot, where u ≤ lastUpdateId is dropped) and the next chains by pu.
func TestS34ctBinanceUSDMDiffEndingAtTheSnapshotJoins(t *testing.T) {
	rest := newS34ctDepthREST(t, `{"lastUpdateId":100,"E":1700000000100,"T":1700000000100,"bids":[["100.0","1"],["99.0","2"]],"asks":[["101.0","1"],["102.0","2"]]}`)
	w := newS34ctBinanceBook(t, rest, book.BinanceUSDMDepth)
	require.NoError(t, w.feed(s34ctFuturesDiff(90, 100, 89, `["99.0","2"]`, "")))
	require.NoError(t, w.feed(s34ctFuturesDiff(104, 107, 100, `["99.5","6"]`, "")))
	assert.Equal(t, "100.0x1 99.5x6 99.0x2 | 101.0x1 102.0x2", w.levels(10))
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
	assert.Len(t, rest.asked(), 1)
}
