package book

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// krThin is a Kraken v2 pair of exactly 10 levels a side, as a depth-25
// subscription's venue sends it: the snapshot holds them all, and the
// parser, before the subscription's ack, names its view 10 (the
// shallowest it can be: normalize TestS31KrakenV2ThinBookDepthAmbiguous).
type krThin struct {
	asks, bids [][2]string
}

func newKrThin() *krThin {
	v := &krThin{}
	for i := range 10 {
		v.asks = append(v.asks, [2]string{fmt.Sprintf("%d.1", 50001+i), "0.5"})
		v.bids = append(v.bids, [2]string{fmt.Sprintf("%d.0", 50000-i), "1"})
	}
	return v
}

func (v *krThin) sum() uint32 {
	n := func(ls [][2]string) [][2]string { return padLevels(ls[:min(10, len(ls))], 1, 8) }
	return krakenSum(n(v.asks), n(v.bids))
}

func (v *krThin) snapshot() string {
	return fmt.Sprintf(`{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":%s,"asks":%s,"checksum":%d}]}`,
		krV2Levels(v.bids), krV2Levels(v.asks), v.sum())
}

// ask sets an ask's quantity ("0" deletes it) and returns the update, its
// checksum that of the venue's book after it (off by one when bad).
func (v *krThin) ask(price, qty string, bad bool) string {
	var out [][2]string
	done := false
	for _, l := range v.asks {
		switch {
		case l[0] == price:
			done = true
			if qty != "0" {
				out = append(out, [2]string{price, qty})
			}
			continue
		case !done && qty != "0" && krLess(price, l[0]):
			out = append(out, [2]string{price, qty})
			done = true
		}
		out = append(out, l)
	}
	if !done && qty != "0" {
		out = append(out, [2]string{price, qty})
	}
	v.asks = out
	sum := v.sum()
	if bad {
		sum++
	}
	return fmt.Sprintf(`{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[{"price":%s,"qty":%s}],"checksum":%d,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`,
		price, qty, sum)
}

// krLess compares two prices of the form NNNNN.D.
func krLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func krAck(depth int) string {
	return fmt.Sprintf(`{"method":"subscribe","req_id":1,"result":{"channel":"book","depth":%d,"snapshot":true,"symbol":"BTC/USD"},"success":true}`, depth)
}

// A Kraken v2 book message does not name its depth: the parser names it
// from the subscription's ack, else from the snapshot (the shallowest
// offered view it can be). A depth-25 subscription of a pair with 10
// levels a side whose ack came after its snapshot had its snapshot named
// view 10 and the rest 25: a KrakenV2.WithDepth(25) book ignored the
// snapshot as another view's, and its updates as diffs without a
// snapshot — not live until a resubscription brought the snapshot again
// (and never, without Options.Resubscribe). The book now follows such a
// snapshot (v2: it carries a checksum; shallower than its depth) and the
// updates of its view aside, and once its own view's first message shows
// the subscription is its depth, takes them as its own: live at once,
// the venue's book, checksum checked. Whatever the order of ack and
// snapshot, the book is live after the first update, with the venue's
// levels, and asked for nothing.
func TestS32KrakenV2AckAfterSnapshotGoesLive(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(x *pipe, v *krThin, t *testing.T)
	}{
		{"ack first", func(x *pipe, v *krThin, t *testing.T) {
			x.feed(t, krAck(25), v.snapshot(), v.ask("50000.5", "0.25", false))
		}},
		{"ack after the snapshot", func(x *pipe, v *krThin, t *testing.T) {
			x.feed(t, v.snapshot(), krAck(25), v.ask("50000.5", "0.25", false))
		}},
		{"ack after the snapshot and updates", func(x *pipe, v *krThin, t *testing.T) {
			x.feed(t, v.snapshot(), v.ask("50000.5", "0.25", false), v.ask("50001.1", "0", false), krAck(25), v.ask("50000.7", "2", false))
		}},
		{"a level entering the 25-deep view", func(x *pipe, v *krThin, t *testing.T) {
			x.feed(t, v.snapshot(), krAck(25), v.ask("50020.1", "3", false), v.ask("50000.5", "0.25", false))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rule, err := KrakenV2.WithDepth(25)
			require.NoError(t, err)
			rule.PriceScale, rule.QtyScale = 1, 8
			x := newPipe(t, normalize.NewKraken, rule, "BTC-USD", nil)
			v := newKrThin()
			tc.run(x, v, t)
			require.True(t, x.b.Live(), "%+v", x.b.Stats())
			require.Zero(t, x.resubs, "asked for a snapshot the venue had sent")
			require.Zero(t, x.b.Stats().ChecksumErrors)
			require.Empty(t, x.markers())
			requireTop(t, x.b, v.bids, v.asks)
		})
	}
}

// The updates followed aside are checked as the book's own are: one whose
// checksum fails leaves nothing to take, and the book resyncs as before
// (it asks for a snapshot), never going live on a book the venue's
// checksum refuted.
func TestS32KrakenV2AsideBookChecked(t *testing.T) {
	rule, err := KrakenV2.WithDepth(25)
	require.NoError(t, err)
	rule.PriceScale, rule.QtyScale = 1, 8
	x := newPipe(t, normalize.NewKraken, rule, "BTC-USD", nil)
	v := newKrThin()
	x.feed(t, v.snapshot(), v.ask("50000.5", "0.25", true), krAck(25), v.ask("50000.7", "2", false))
	require.False(t, x.b.Live())
	require.Equal(t, 1, x.resubs)
}

// What was kept aside before a lost connection is never taken: the new
// connection's first update finds none, and the book asks for its
// snapshot.
func TestS32KrakenV2AsideDroppedOnLoss(t *testing.T) {
	rule, err := KrakenV2.WithDepth(25)
	require.NoError(t, err)
	rule.PriceScale, rule.QtyScale = 1, 8
	x := newPipe(t, normalize.NewKraken, rule, "BTC-USD", nil)
	v := newKrThin()
	x.feed(t, v.snapshot())
	lost := schema.CanonicalEvent{Venue: schema.VenueKraken, Type: schema.EventConnState,
		Control: &schema.Control{Kind: schema.ControlConnState, State: schema.ConnDisconnected}}
	require.NoError(t, x.b.Apply(context.Background(), &lost))
	x.feed(t, krAck(25), v.ask("50000.7", "2", false))
	require.False(t, x.b.Live())
	require.Equal(t, 1, x.resubs)
}
