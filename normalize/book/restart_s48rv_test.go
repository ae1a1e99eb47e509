package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A restart counted (u = 1) was forgotten only at the start of the
// message after the book had moved past 1: a book that applied u = 2 and
// then lost its connection (or broke on a gap) before another message
// still took the new subscription's u = 1 for the counted restart's data
// pushed again, though the numbering had passed 1 — Bybit's second
// restart, not counted, not logged. Now the book's numbering passing 1 —
// any message of its view with u > 1 — ends the counted restart. Level 1
// (a change after the restart) and a deep view (one delta after it).
func TestS48rvBybitRestartAfterOneMessageCounted(t *testing.T) {
	ctx := context.Background()
	level1, err := Bybit.WithDepth(1)
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		rule  Rule
		depth int
		after string // the one message past 1 before the loss
	}{
		{"level 1", level1, 1, "snapshot"},
		{"depth 50", Bybit, 50, "delta"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newS48normBybitBooks(t, tc.rule)
			b, p := x.b, x.p
			n := int64(0)
			feed := func(m []byte) {
				n++
				require.NoError(t, p.HandleBytes(ctx, m, n))
			}
			feed(s48normBybitFrame(tc.depth, "snapshot", 1, "100")) // a restart
			feed(s48normBybitFrame(tc.depth, tc.after, 2, "99"))    // the numbering passes 1
			require.Equal(t, uint64(1), b.Stats().Restarts)
			require.Equal(t, uint64(2), b.LastSeq())

			n++
			x.lose(t, n)
			require.False(t, b.Live())

			feed(s48normBybitFrame(tc.depth, "snapshot", 1, "98")) // u back at 1: the service restarted again
			require.True(t, b.Live())
			require.Equal(t, uint64(2), b.Stats().Restarts, "the second restart")
			requireTop(t, b, [][2]string{{"98", "1"}}, [][2]string{{"101", "1"}})
			feed(s48normBybitFrame(tc.depth, "snapshot", 1, "98")) // pushed again (level 1) or resubscribed: the same restart
			require.Equal(t, uint64(2), b.Stats().Restarts)
		})
	}
}

// lose publishes to x's Books the loss of the Bybit connection, received
// at ingest, as a host does.
func (x *s48normBybitBooks) lose(t *testing.T, ingest int64) {
	t.Helper()
	lost, err := x.events.Get(context.Background())
	require.NoError(t, err)
	lost.Venue, lost.Type, lost.IngestTS = schema.VenueBybit, schema.EventConnState, ingest
	c := lost.UseControl()
	c.Kind, c.State = schema.ControlConnState, schema.ConnDisconnected
	require.NoError(t, x.books.Publish(context.Background(), lost))
}
