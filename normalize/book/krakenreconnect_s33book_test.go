package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
)

// A live Kraken v2 book whose connection died: the new connection has a
// parser of its own (session: "each connection has its parser") that
// knows no ack yet, so the thin pair's new snapshot is named a shallower
// view (kraken_aside.go). wsclient's report of the loss may come after
// that snapshot (IngestTS before it), and the new connection's first
// update of the book's view before or after the report. Before, the live
// book did not keep the snapshot aside: the late report invalidated it
// with nothing to take, and the next update asked for a snapshot the
// venue had just sent (a needless resubscription, the book dark
// meanwhile); an update before the report was applied to the dead
// connection's book, whose checksum then failed (a resubscription too).
// Now the snapshot is kept aside while the book is live, the late report
// invalidates the book (announced) and keeps it, and the new connection's
// first update of the book's view takes it: live on the venue's book,
// without a resubscription.
func TestS33KrakenReconnectTakesTheNewConnectionsSnapshot(t *testing.T) {
	for _, lossFirst := range []bool{true, false} {
		name := map[bool]string{true: "loss report before the update", false: "update before the loss report"}[lossFirst]
		t.Run(name, func(t *testing.T) {
			x := newKrAsidePipe(t)
			v := newKrThin()
			x.feed(t, v.snapshot(), krAck(25), v.ask("50001.1", "0.25", false)) // ten levels a side, as the thin pair keeps
			require.True(t, x.b.Live())
			lostAt := x.ts + 1
			_ = v.ask("50002.1", "3", false) // the venue's book moves while no connection delivers it
			x.p = normalize.NewKraken(x.events, x.books, nil)
			markers := len(x.markers())
			x.feed(t, v.snapshot()) // announces the loss itself since s34 (TestS34KrakenAsideSnapshotEndsTheDeadConnectionsBook)
			if lossFirst {
				require.NoError(t, x.b.Apply(context.Background(), krLost(lostAt)))
				require.False(t, x.b.Live(), "the dead connection's book is served after its loss")
				require.Len(t, x.markers(), markers+1, "the loss is announced")
			}
			x.feed(t, krAck(25), v.ask("50003.1", "1", false))
			require.True(t, x.b.Live(), "%+v", x.b.Stats())
			if !lossFirst {
				require.NoError(t, x.b.Apply(context.Background(), krLost(lostAt)))
				require.True(t, x.b.Live(), "a report older than the new connection's snapshot")
			}
			require.Zero(t, x.resubs, "asked for a snapshot the new connection had sent")
			requireTop(t, x.b, v.bids, v.asks)
			require.Zero(t, x.b.Stats().ChecksumErrors, "%+v", x.b.Stats())
		})
	}
}
