package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A dropped book message is marked lost where the next message cannot show
// it (Kraken, Coinbase): for its symbol, or for every book of the venue
// when its symbol cannot be read; venues with ids mark it at the next
// message, once.
func TestDroppedBookMessageMarked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	newRec := func(venue schema.Venue) (*Parser, *recSink) {
		events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
		sink := &recSink{events: events}
		t.Cleanup(func() { require.Zero(t, events.Stats().InUse) })
		return newVenueParser(venue, events, sink).(*Parser), sink
	}

	p, sink := newRec(schema.VenueKraken)
	err := p.HandleBytes(ctx, []byte(`{"channel":"book","type":"update","data":[{"symbol":"BTC/USDT","bids":[{"price":-1,"qty":1}],"asks":[],"checksum":1,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`), 5)
	require.ErrorIs(t, err, ErrNegative)
	require.Len(t, sink.got, 1)
	g := sink.got[0]
	require.Equal(t, schema.EventGap, g.Type)
	require.Equal(t, "BTC-USDT", g.Symbol)
	require.Equal(t, schema.EventBookUpdate, g.Control.GapType)
	require.Equal(t, int64(5), g.IngestTS)

	// No symbol to read: every book of the venue.
	sink.got = nil
	require.Error(t, p.HandleBytes(ctx, []byte(`{"channel":"book","type":"update","data":[{"bids":[{"price":"x","qty":1}],"asks":[]}]}`), 6))
	require.Len(t, sink.got, 1)
	require.Equal(t, schema.EventGap, sink.got[0].Type)
	require.Empty(t, sink.got[0].Symbol)

	// A symbol the registry cannot resolve is no book's: no marker (an
	// unregistered product must not invalidate every other book).
	p, sink = newRec(schema.VenueCoinbase)
	err = p.HandleBytes(ctx, []byte(`{"channel":"l2_data","timestamp":"2026-03-05T09:05:32.5Z","sequence_num":1,"events":[{"type":"update","product_id":"BIP-20DEC30-CDE","updates":[{"side":"bid","event_time":"2026-03-05T09:05:32.449176Z","price_level":"72575","new_quantity":"-1"}]}]}`), 8)
	require.Error(t, err)
	require.Empty(t, sink.got)

	// A book message whose envelope or event does not decode: lost too.
	for _, tc := range []struct {
		venue schema.Venue
		msg   string
		sym   string
	}{
		// Its pair is readable: only its book (not every Kraken book).
		{schema.VenueKraken, `{"channel":"book","type":7,"data":[{"symbol":"BTC/USDT","bids":[],"asks":[],"checksum":0}]}`, "BTC-USDT"},
		{schema.VenueCoinbase, `{"channel":"l2_data","timestamp":"2026-03-05T09:05:32.5Z","sequence_num":2,"events":[{"product_id":"BTC-USD","type":123,"updates":[]}]}`, "BTC-USD"},
		{schema.VenueCoinbase, `{"channel":"l2_data","timestamp":"2026-03-05T09:05:32.5Z","sequence_num":2,"events":[5]}`, ""},
		{schema.VenueKraken, `[1,"book-25","XBT/USD"]`, "BTC-USD"},
	} {
		p, sink := newRec(tc.venue)
		require.Error(t, p.HandleBytes(ctx, []byte(tc.msg), 7), tc.msg)
		require.Len(t, sink.got, 1, tc.msg)
		require.Equal(t, schema.EventGap, sink.got[0].Type, tc.msg)
		require.Equal(t, tc.sym, sink.got[0].Symbol, tc.msg)
	}

	// Binance: the next diff's ids show the loss; one marker, not two.
	p, sink = newRec(schema.VenueBinance)
	diff := func(first, last int, qty string) []byte {
		return []byte(`{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":` + itoa(first) + `,"u":` + itoa(last) + `,"b":[["1","` + qty + `"]],"a":[]}`)
	}
	require.NoError(t, p.HandleBytes(ctx, diff(1, 2, "1"), 1))
	require.Error(t, p.HandleBytes(ctx, diff(3, 4, "-1"), 2))
	require.Len(t, sink.got, 1, "nothing at the drop")
	require.NoError(t, p.HandleBytes(ctx, diff(5, 6, "1"), 3))
	require.Len(t, sink.got, 3)
	require.Equal(t, schema.EventGap, sink.got[1].Type)
	require.Equal(t, uint64(3), sink.got[1].Control.GapFirstSeq)
}

// A Kraken v1 array frame that does not decode (truncated, a bad token) is
// a lost book message when it names a book channel — for its pair when the
// pair was read, else for every book of the venue — or, naming nothing,
// on a connection that carries v1 books: Kraken books carry no ids, and
// the next checksum covers only the top 10, so a lost change deeper in a
// book-25…1000 view would stay in the book for good. A frame that names
// another channel (trade) marks nothing.
func TestKrakenV1UndecodableFrameMarked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const update = `[1234,{"a":[["5541.30000","2.50700000","1534614248.456738"]],"c":"974942666"},"book-25","XBT/USD"]`
	for _, tc := range []struct {
		name   string
		before string // a v1 book message the connection carried first, or ""
		msg    string
		marked bool
		sym    string
		depth  int
	}{
		{"pair read", "", `[1234,{"a":[["5541.30000","2.50700000","1534614248.456738"]]},"book-25","XBT/USD",]`, true, "BTC-USD", 25},
		{"truncated after the name", "", `[1234,{"a":[["5541.30000","2.50700000","1534614248.456738"]]},"book-25",`, true, "", 25},
		{"truncated payload, books carried", update, `[1234,{"a":[["5541.30000","2.5070`, true, "", 0},
		{"truncated payload, no books", "", `[1234,{"a":[["5541.30000","2.5070`, false, "", 0},
		{"a trade frame", update, `[0,[["5541.20000","0.15850568","1534614057.321597","s","l",""]],"trade","XBT/USD",]`, false, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			t.Cleanup(func() { require.Zero(t, events.Stats().InUse) })
			p := NewKraken(events, sink, nil)
			if tc.before != "" {
				require.NoError(t, p.HandleBytes(ctx, []byte(tc.before), 1))
				sink.got = nil
			}
			require.Error(t, p.HandleBytes(ctx, []byte(tc.msg), 7))
			if !tc.marked {
				require.Empty(t, sink.got)
				return
			}
			require.Len(t, sink.got, 1)
			g := sink.got[0]
			require.Equal(t, schema.EventGap, g.Type)
			require.Equal(t, schema.EventBookUpdate, g.Control.GapType)
			require.Equal(t, tc.sym, g.Symbol)
			require.Equal(t, tc.depth, g.Book.Depth)
			require.Equal(t, int64(7), g.IngestTS)
		})
	}
}
