package book

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
)

// newKrDeep is a Kraken v2 pair of 25 levels a side: a depth-25
// subscription's snapshot holds them all (named view 25 by its size), a
// depth-10 one the best 10 a side.
func newKrDeep() *krThin {
	v := &krThin{}
	for i := range 25 {
		v.asks = append(v.asks, [2]string{fmt.Sprintf("%d.1", 50001+i), "0.5"})
		v.bids = append(v.bids, [2]string{fmt.Sprintf("%d.0", 50000-i), "1"})
	}
	return v
}

// A live Kraken v2 book of depth 25 beside a depth-10 stream of its pair
// (another connection's, fed to the same Books: Book.otherView counts it
// and leaves the book alone). Since the book keeps a shallower view's
// snapshot aside while live too (a new connection's, named shallower
// before its ack), the depth-10 stream's snapshot was taken at the book's
// next update: the live book was cut to the 10 levels of the other view,
// its levels 11–25 gone, unannounced (Top(25) served 10 a side), until a
// checksum failed when a top-10 level went. A new connection's snapshot
// named a shallower view holds no more levels a side than that view; a
// live book deeper than it on a side is not being replaced by it.
func TestS33rvKrakenLiveBookKeepsItsLevelsBesideAShallowerView(t *testing.T) {
	x := newKrAsidePipe(t)
	v := newKrDeep()
	x.feed(t, krAck(25), v.snapshot(), v.ask("50001.1", "0.25", false))
	require.True(t, x.b.Live())
	requireTop(t, x.b, v.bids, v.asks)

	// The other connection's depth-10 subscription: its ack, then its
	// snapshot, the best 10 levels a side (its checksum, over the top 10,
	// is the venue's book's).
	ten := &krThin{asks: v.asks[:10:10], bids: v.bids[:10:10]}
	other := normalize.NewKraken(x.events, x.books, nil)
	for _, f := range []string{krAck(10), ten.snapshot()} {
		x.ts += 1e6
		require.NoError(t, other.HandleBytes(context.Background(), []byte(f), x.ts))
	}
	x.feed(t, v.ask("50002.1", "0.75", false)) // the book's own stream goes on
	require.True(t, x.b.Live(), "%+v", x.b.Stats())
	requireTop(t, x.b, v.bids, v.asks)
	require.Zero(t, x.resubs)
	require.Zero(t, x.b.Stats().ChecksumErrors)
}

// A snapshot of the book's own view makes what is kept aside moot: it is
// the venue's book now. A live thin book keeps a new connection's
// snapshot aside (named a shallower view before its ack); that
// connection dies too, and the next one's ack comes first: its snapshot
// is the book's own view, loaded at once. Its first update must apply
// to that snapshot, not take the older one kept aside — whose levels the
// venue has since changed (checksum failure, a resubscription). No test
// failed with the drop (Book.Apply, "a snapshot of its own view")
// removed; this one does.
func TestS33rvKrakenOwnSnapshotDropsTheAside(t *testing.T) {
	x := newKrAsidePipe(t)
	v := newKrThin()
	x.feed(t, krAck(25), v.snapshot(), v.ask("50001.1", "0.25", false))
	require.True(t, x.b.Live())
	feedOn := func(p *normalize.Parser, frames ...string) {
		for _, f := range frames {
			x.ts += 1e6
			require.NoError(t, p.HandleBytes(context.Background(), []byte(f), x.ts))
		}
	}
	feedOn(normalize.NewKraken(x.events, x.books, nil), v.snapshot()) // no ack yet: kept aside
	_ = v.ask("50002.1", "3", false)                                  // the venue's book moves while no connection delivers it
	third := normalize.NewKraken(x.events, x.books, nil)
	feedOn(third, krAck(25), v.snapshot(), v.ask("50003.1", "1", false))
	require.True(t, x.b.Live(), "%+v", x.b.Stats())
	require.Zero(t, x.resubs, "%+v", x.b.Stats())
	require.Zero(t, x.b.Stats().ChecksumErrors, "%+v", x.b.Stats())
	requireTop(t, x.b, v.bids, v.asks)
}
