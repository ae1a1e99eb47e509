package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

func s44bybitFrame(typ string, u int, bid string) []byte { return s48normBybitFrame(50, typ, u, bid) }

// Bybit's u = 1 ("snapshot data due to the restart of the service. So
// please overwrite your local orderbook", Bybit v5 "Orderbook") was told
// in three places: the parser (a delta published as a snapshot), the
// book's snapshot branch (counting it) and the book's diff branch (a
// second loader, without the snapshot branch's steps). Now the parser
// decides what it publishes, and the book decides in one place (apply)
// for a snapshot or a diff alike. Through parser and Books, after a lost
// delta (503 follows 501), a u = 1 delta replaces the book once — its
// levels alone, Snapshots and Restarts counted once — and the loss is
// one gap: the parser's marker, once, and the book's own, once.
func TestS44normBybitRestartReplacesOnce(t *testing.T) {
	ctx := context.Background()
	x := newS48normBybitBooks(t, Bybit)
	b, p, sink := x.b, x.p, x.sink
	for i, m := range [][]byte{s44bybitFrame("snapshot", 500, "100"), s44bybitFrame("delta", 501, "99"), s44bybitFrame("delta", 503, "98"), s44bybitFrame("delta", 1, "97")} {
		require.NoError(t, p.HandleBytes(ctx, m, int64(i+1)))
	}
	var snaps, parserGaps, bookGaps int
	for _, ev := range sink.got {
		switch ev.Type {
		case schema.EventBookSnapshot:
			snaps++
		case schema.EventGap:
			if ev.Control.Reason == ReasonUpstream {
				bookGaps++
			} else {
				parserGaps++
				require.Equal(t, uint64(502), ev.Control.GapFirstSeq)
			}
		}
	}
	last := sink.got[len(sink.got)-1]
	require.Equal(t, schema.EventBookSnapshot, last.Type, "u = 1 published as the snapshot it is")
	require.Equal(t, 2, snaps, "500, then the restart")
	require.Equal(t, 1, parserGaps)
	require.Equal(t, 1, bookGaps)
	st := b.Stats()
	require.Equal(t, uint64(2), st.Snapshots)
	require.Equal(t, uint64(1), st.Restarts)
	require.Equal(t, uint64(1), st.Gaps)
	require.Equal(t, uint64(1), p.Stats().Gaps)
	require.True(t, b.Live())
	var top schema.CanonicalEvent
	require.True(t, b.Top(0, &top))
	require.Len(t, top.Book.Bids, 1, "the restart's levels alone: overwritten, not merged")
	require.Equal(t, "97", top.Book.Bids[0].Price.String())
	require.Equal(t, uint64(1), b.LastSeq())

	// The next delta continues the restart.
	require.NoError(t, p.HandleBytes(ctx, s44bybitFrame("delta", 2, "96"), 9))
	require.Equal(t, uint64(2), b.LastSeq())
	require.Equal(t, uint64(1), b.Stats().Restarts)
}

// A host's own u = 1 diff, not converted by a parser, is loaded by the
// book's one place as the snapshot it is: the stale levels go, counted
// once as a restart and a snapshot.
func TestS44normBybitHostRestartDiffReplacesOnce(t *testing.T) {
	ctx := context.Background()
	b, err := NewBook(Bybit, "BTC-USDT", &Options{})
	require.NoError(t, err)
	ev := bookEv(schema.VenueBybit, schema.EventBookSnapshot, 0, 500, 0, []schema.Level{lvl("100", "1"), lvl("99", "1")}, []schema.Level{lvl("101", "1")})
	require.NoError(t, b.Apply(ctx, ev))
	diff := bookEv(schema.VenueBybit, schema.EventBookUpdate, 0, 1, 0, []schema.Level{lvl("97", "1")}, []schema.Level{lvl("102", "1")})
	require.NoError(t, b.Apply(ctx, diff))
	st := b.Stats()
	require.Equal(t, uint64(2), st.Snapshots)
	require.Equal(t, uint64(1), st.Restarts)
	require.Zero(t, st.Applied)
	var top schema.CanonicalEvent
	require.True(t, b.Top(0, &top))
	require.Len(t, top.Book.Bids, 1)
	require.Equal(t, "97", top.Book.Bids[0].Price.String())
	require.Len(t, top.Book.Asks, 1)
	require.Equal(t, "102", top.Book.Asks[0].Price.String())
}
