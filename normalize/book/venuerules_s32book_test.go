package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// threeLevels is a book of three levels a side around 100.
func threeLevels() (bids, asks []schema.Level) {
	return []schema.Level{lvl("100", "1"), lvl("99", "2"), lvl("98", "3")},
		[]schema.Level{lvl("101", "1"), lvl("102", "2"), lvl("103", "3")}
}

// A delete (quantity 0) of a price level the book does not hold is
// normal, not a fault: Binance "How to manage a local order book
// correctly" ("Receiving an event that removes a price level that is not
// in your local order book can happen and is normal"), Bybit "Orderbook"
// (a delta's size 0 deletes "the entire price level"), OKX "Order book
// channel" (a size of 0 deletes the level), Coinbase level2
// (new_quantity "0"). For every venue's rule the book stays live,
// unchanged, with no gap and no resync; its next diff still chains.
func TestS32DeleteOfAbsentLevel(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule Rule
		snap uint64                   // the snapshot's LastSeq
		ids  func(n uint64) [3]uint64 // the n-th diff's FirstSeq, LastSeq, PrevSeq after the snapshot
	}{
		{"Binance", Binance, 1000, func(n uint64) [3]uint64 { return [3]uint64{1000 + n, 1000 + n, 0} }},
		{"Binance USD-M", Binance, 1000, func(n uint64) [3]uint64 { // U skips ids; pu chains
			return [...][3]uint64{{995, 1003, 990}, {1010, 1012, 1003}}[n-1]
		}},
		{"OKX", OKX, 10, func(n uint64) [3]uint64 { return [3]uint64{0, 10 + n, 10 + n - 1} }},
		{"Bybit", Bybit, 5, func(n uint64) [3]uint64 { return [3]uint64{0, 5 + n, 0} }},
		{"Coinbase", Coinbase, 0, func(uint64) [3]uint64 { return [3]uint64{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := &Options{Resubscribe: func(context.Context, schema.Venue, string) error { return nil }}
			if tc.rule.Resync == ResyncFetch {
				opts = &Options{Fetcher: FetcherFunc(func(context.Context, string, *schema.CanonicalEvent) error {
					t.Fatal("fetched")
					return nil
				})}
			}
			b, _, _ := newRecBook(t, tc.rule, "BTC-USDT", opts)
			bids, asks := threeLevels()
			snap := bookEv(tc.rule.Venue, schema.EventBookSnapshot, 0, tc.snap, 0, bids, asks)
			snap.Book.Depth = tc.rule.Depth
			require.NoError(t, b.Apply(context.Background(), snap))
			require.True(t, b.Live())
			diff := func(n uint64, bids, asks []schema.Level) {
				id := tc.ids(n)
				ev := bookEv(tc.rule.Venue, schema.EventBookUpdate, id[0], id[1], id[2], bids, asks)
				ev.Book.Depth = tc.rule.Depth
				require.NoError(t, b.Apply(context.Background(), ev))
			}
			// Absent levels deleted: inside the book, between its levels
			// and beyond its worst.
			diff(1, []schema.Level{lvl("99.5", "0"), lvl("97", "0")}, []schema.Level{lvl("101.5", "0"), lvl("104", "0")})
			require.True(t, b.Live(), "%+v", b.Stats())
			requireTop(t, b, [][2]string{{"100", "1"}, {"99", "2"}, {"98", "3"}}, [][2]string{{"101", "1"}, {"102", "2"}, {"103", "3"}})
			// The next diff chains on.
			diff(2, []schema.Level{lvl("100", "5")}, nil)
			require.True(t, b.Live(), "%+v", b.Stats())
			requireTop(t, b, [][2]string{{"100", "5"}}, nil)
			st := b.Stats()
			require.Zero(t, st.Gaps)
			require.Zero(t, st.Invalidations)
			require.Equal(t, uint64(2), st.Applied)
		})
	}
}

// Bybit "Orderbook": for the level 1 stream, "if 3 seconds have elapsed
// without a change in the orderbook, a snapshot message will be pushed
// again, and the field u will be the same as that in the previous
// message"; and level 1 pushes snapshots only. The repeated snapshot is
// the book again: it stays live, no gap, and the next one replaces it.
func TestS32BybitLevel1SnapshotRepeatedWithSameU(t *testing.T) {
	rule, err := Bybit.WithDepth(1)
	require.NoError(t, err)
	b, _, _ := newRecBook(t, rule, "BTC-USDT", &Options{Resubscribe: func(context.Context, schema.Venue, string) error { return nil }})
	snap := func(u uint64, bid, ask string) *schema.CanonicalEvent {
		ev := bookEv(schema.VenueBybit, schema.EventBookSnapshot, 0, u, 0, []schema.Level{lvl(bid, "1")}, []schema.Level{lvl(ask, "1")})
		ev.Book.Depth = 1
		return ev
	}
	require.NoError(t, b.Apply(context.Background(), snap(7, "100", "101")))
	require.NoError(t, b.Apply(context.Background(), snap(7, "100", "101")))
	require.True(t, b.Live())
	// Level 1 pushes snapshots only (same page): the next is the book.
	require.NoError(t, b.Apply(context.Background(), snap(8, "100.5", "101")))
	require.True(t, b.Live())
	requireTop(t, b, [][2]string{{"100.5", "1"}}, [][2]string{{"101", "1"}})
	require.Zero(t, b.Stats().Gaps)
	require.Zero(t, b.Stats().Invalidations)
}
