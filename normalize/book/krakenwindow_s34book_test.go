package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// A live Kraken v2 book whose connection died keeps the new connection's
// snapshot aside (its parser knows no ack yet and names the thin pair's
// snapshot a shallower view) until the first message of its own view.
// Between the two it was still live, serving the dead connection's
// levels as current, unannounced, unless wsclient's report of the loss
// (on a goroutine of its own, which may lag) came first: a host reading
// Top or BBO there got a book no connection was keeping, and a quiet pair
// may send its next update seconds later. A snapshot kept aside by a live
// book is news that its levels are a dead connection's: the book is
// invalidated at once (announced, ReasonReconnect) and keeps the
// snapshot aside for that first message, which makes it live again
// without a resubscription; the late loss report then changes nothing.
func TestS34KrakenAsideSnapshotEndsTheDeadConnectionsBook(t *testing.T) {
	x := newKrAsidePipe(t)
	v := newKrThin()
	x.feed(t, v.snapshot(), krAck(25), v.ask("50001.1", "0.25", false))
	require.True(t, x.b.Live())
	lostAt := x.ts + 1
	_ = v.ask("50002.1", "3", false) // the venue's book moves while no connection delivers it
	x.p = normalize.NewKraken(x.events, x.books, nil)
	markers := len(x.markers())
	x.feed(t, v.snapshot()) // the new connection's, named a shallower view: kept aside
	require.False(t, x.b.Live(), "the dead connection's book is served as live")
	_, ok := x.b.BBO()
	require.False(t, ok)
	var top schema.CanonicalEvent
	require.False(t, x.b.Top(5, &top))
	require.Len(t, x.markers(), markers+1, "the end of the dead connection's book is not announced")
	require.Equal(t, ReasonReconnect, x.markers()[markers].Control.Reason)

	require.NoError(t, x.b.Apply(context.Background(), krLost(lostAt))) // the late report
	require.Len(t, x.markers(), markers+1, "announced twice")
	x.feed(t, krAck(25), v.ask("50003.1", "1", false))
	require.True(t, x.b.Live(), "%+v", x.b.Stats())
	require.Zero(t, x.resubs, "asked for a snapshot the new connection had sent")
	requireTop(t, x.b, v.bids, v.asks)
	require.Zero(t, x.b.Stats().ChecksumErrors, "%+v", x.b.Stats())
}
