package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// newKrAsidePipe is a KrakenV2 depth-25 book of BTC/USD behind the parser,
// as TestS32KrakenV2AckAfterSnapshotGoesLive builds it.
func newKrAsidePipe(t *testing.T) *pipe {
	t.Helper()
	rule, err := KrakenV2.WithDepth(25)
	require.NoError(t, err)
	rule.PriceScale, rule.QtyScale = 1, 8
	return newPipe(t, normalize.NewKraken, rule, "BTC-USD", nil)
}

// krLost is wsclient's report of a lost Kraken connection, stamped at.
func krLost(at int64) *schema.CanonicalEvent {
	return &schema.CanonicalEvent{Venue: schema.VenueKraken, Type: schema.EventConnState, IngestTS: at,
		Control: &schema.Control{Kind: schema.ControlConnState, State: schema.ConnDisconnected}}
}

// wsclient reports a lost connection on a goroutine of its own, which may
// lag behind the new connection's first messages: a loss older (IngestTS)
// than the snapshot that proved the book good is news of the earlier
// connection and is ignored (Book.Apply). The same holds of a snapshot
// the book keeps aside (a thin pair's, named a shallower view before the
// ack): received after the loss, it is the new connection's. Dropped for
// the old connection's loss, the book found nothing to take at the first
// update of its view and asked for the snapshot the venue had just sent
// (one resubscription, and not live meanwhile) — where the same snapshot
// named the book's own view keeps the book live.
func TestS32rvKrakenAsideSurvivesALateLossReport(t *testing.T) {
	for _, ackFirst := range []bool{true, false} {
		name := map[bool]string{true: "ack first (own view)", false: "ack after the snapshot (aside)"}[ackFirst]
		t.Run(name, func(t *testing.T) {
			x := newKrAsidePipe(t)
			v := newKrThin()
			lostAt := x.ts + 1 // the old connection died before the new one's first frame
			if ackFirst {
				x.feed(t, krAck(25))
			}
			x.feed(t, v.snapshot())
			require.NoError(t, x.b.Apply(context.Background(), krLost(lostAt)))
			if !ackFirst {
				x.feed(t, krAck(25))
			}
			x.feed(t, v.ask("50000.5", "0.25", false))
			require.True(t, x.b.Live(), "%+v", x.b.Stats())
			require.Zero(t, x.resubs, "asked for a snapshot the new connection had sent")
			requireTop(t, x.b, v.bids, v.asks)
		})
	}
}

// A loss reported after the snapshot kept aside (IngestTS later than the
// snapshot's) still drops it: that snapshot came on the dead connection.
func TestS32rvKrakenAsideDroppedOnALaterLoss(t *testing.T) {
	x := newKrAsidePipe(t)
	v := newKrThin()
	x.feed(t, v.snapshot())
	require.NoError(t, x.b.Apply(context.Background(), krLost(x.ts+1)))
	x.feed(t, krAck(25), v.ask("50000.5", "0.25", false))
	require.False(t, x.b.Live())
	require.Equal(t, 1, x.resubs)
}

// The book kept aside is let go once the book is live — by taking it, or
// by a snapshot of the book's own view (a resubscription's) — as
// krAside's doc says: a book of a thin pair otherwise held a second copy
// of up to Rule.Depth levels a side (and its scratch event) for the
// life of the book. A later aside stream gets a book of its own again.
func TestS32rvKrakenAsideLetGoOnceLive(t *testing.T) {
	t.Run("taken", func(t *testing.T) {
		x := newKrAsidePipe(t)
		v := newKrThin()
		x.feed(t, v.snapshot(), krAck(25), v.ask("50000.5", "0.25", false))
		require.True(t, x.b.Live())
		require.True(t, x.b.aside.bk == nil, "the book kept aside is still held")
		requireTop(t, x.b, v.bids, v.asks)
	})
	t.Run("own snapshot", func(t *testing.T) {
		x := newKrAsidePipe(t)
		v := newKrThin()
		x.feed(t, v.snapshot(), krAck(25), v.snapshot()) // the second is named 25: the ack came
		require.True(t, x.b.Live())
		require.True(t, x.b.aside.bk == nil, "the book kept aside is still held")
	})
	t.Run("again after a resubscription", func(t *testing.T) {
		x := newKrAsidePipe(t)
		v := newKrThin()
		x.feed(t, v.snapshot(), krAck(25), v.ask("50000.5", "0.25", false))
		require.True(t, x.b.Live())
		x.feed(t, v.ask("50000.7", "2", true)) // refuted: resubscribes
		require.False(t, x.b.Live())
		require.Equal(t, 1, x.resubs)
		unsub := `{"method":"unsubscribe","req_id":2,"result":{"channel":"book","depth":25,"symbol":"BTC/USD"},"success":true}`
		x.feed(t, unsub, v.snapshot(), krAck(25), v.ask("50000.9", "1", false))
		require.True(t, x.b.Live(), "%+v", x.b.Stats())
		require.Equal(t, 1, x.resubs)
		require.True(t, x.b.aside.bk == nil, "the book kept aside is still held")
		requireTop(t, x.b, v.bids, v.asks)
	})
}

// The book kept aside arms no timer on the book's Clock (it is built
// without Options.MaxSilence, and never closed): a book with MaxSilence
// that follows a stream aside, takes it, and is closed leaves nothing
// armed on its clock, and while the stream is only aside (the book not
// live) nothing is armed at all.
func TestS32rvKrakenAsideArmsNoTimer(t *testing.T) {
	rule, err := KrakenV2.WithDepth(25)
	require.NoError(t, err)
	rule.PriceScale, rule.QtyScale = 1, 8
	clk := newStepClock()
	x := newPipe(t, normalize.NewKraken, rule, "BTC-USD", &Options{Clock: clk, MaxSilence: time.Minute})
	v := newKrThin()
	x.feed(t, v.snapshot(), v.ask("50000.5", "0.25", false))
	require.False(t, x.b.Live())
	require.Zero(t, clk.pending(), "a timer armed for a stream only kept aside")
	x.feed(t, krAck(25), v.ask("50000.7", "2", false))
	require.True(t, x.b.Live())
	require.Equal(t, 1, clk.pending(), "the live book's MaxSilence timer")
	x.b.Close()
	require.Zero(t, clk.pending(), "a timer left armed after Close")
}

// A gap in the stream kept aside drops it: the aside book lacks what was
// lost and is never taken — the book asks for its snapshot at its own
// view's first update, takes no snapshot and publishes no marker of a
// book it never had. The gap is the parser's marker of a book message it
// dropped as malformed (it names view 0, the whole symbol's book stream,
// which invalidates the book and what it kept aside), or a marker of the
// aside view itself (a dispatcher's, for a book downstream of it).
func TestS32rvKrakenAsideDroppedOnItsGap(t *testing.T) {
	bad := `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[{"price":"x","qty":1}],"checksum":1,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`
	for _, tc := range []struct {
		name string
		gap  func(x *pipe)
	}{
		{"parser's marker", func(x *pipe) { x.feed(t, bad) }},
		{"marker of the aside view", func(x *pipe) {
			x.ts += 1e6
			g := schema.CanonicalEvent{Venue: schema.VenueKraken, Symbol: "BTC-USD", Type: schema.EventGap, IngestTS: x.ts,
				Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapFirstSeq: 1, GapLastSeq: 1}}
			g.Book.Depth = 10
			require.NoError(t, x.b.Apply(context.Background(), &g))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newKrAsidePipe(t)
			v := newKrThin()
			x.feed(t, v.snapshot())
			tc.gap(x)
			x.feed(t, krAck(25), v.ask("50000.5", "0.25", false))
			require.False(t, x.b.Live())
			require.Equal(t, 1, x.resubs)
			require.Zero(t, x.b.Stats().Snapshots, "took the aside book after its gap")
			require.Empty(t, x.markers())
		})
	}
}
