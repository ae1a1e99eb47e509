package merge

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// lossS39ci is a gap marker of v about its trades of the Merger's symbol:
// n events lost on the way.
func lossS39ci(v schema.Venue, n uint64) *schema.CanonicalEvent {
	return &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventGap,
		Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventTrade, GapCount: n, GapSource: schema.GapSubscriberQueue}}
}

// Stats add up: every event a gap marker says was lost (Stats.Lost) and
// every late fragment (Stats.LateDropped) is told by some published
// window's Lost and LateDropped, once everything is flushed — also when
// the window that counted them was lost waiting for the Merged pool or
// suppressed as incomplete. Before the fix a lost window's Lost went with
// it (its late count went on with the newer window), and a suppressed
// window's Lost was told by nobody.
func TestS39ciWindowLostCountsGoOn(t *testing.T) {
	ctx := context.Background()
	ms := time.Millisecond
	sums := func(t *testing.T, next func(*testing.T) *schema.MergedEvent, n int) (lost, late uint64, ids []uint64) {
		t.Helper()
		for range n {
			w := next(t)
			lost += w.Lost
			late += w.LateDropped
			ids = append(ids, w.MergeID)
		}
		return lost, late, ids
	}

	t.Run("window lost waiting for the pool", func(t *testing.T) {
		e := newExhaustible(t, Options{Mode: Windowed, Window: time.Second})
		e.exhaust(t)
		require.NoError(t, e.m.Add(ctx, trade(schema.VenueBinance, 0, "100")))
		require.NoError(t, e.m.Add(ctx, trade(schema.VenueOKX, 100*ms, "100")))
		require.NoError(t, e.m.Add(ctx, lossS39ci(schema.VenueOKX, 3)), "3 trades lost in window 1")
		require.NoError(t, e.m.Add(ctx, trade(schema.VenueBinance, 1500*ms, "101")), "closes window 1: it waits for the pool")
		require.NoError(t, e.m.Add(ctx, trade(schema.VenueOKX, 50*ms, "99")), "late")
		require.NoError(t, e.m.Add(ctx, trade(schema.VenueOKX, 1600*ms, "101")))
		require.NoError(t, e.m.Add(ctx, trade(schema.VenueBinance, 2700*ms, "102")), "closes window 2: window 1 is lost")
		e.none(t)
		e.refill()
		e.clk.set(t0.Add(10 * time.Second))
		require.NoError(t, e.m.Flush(ctx))
		lost, late, ids := sums(t, e.next, 2)
		e.none(t)
		st := e.m.Stats()
		require.Equal(t, uint64(1), st.WindowsLost)
		require.Equal(t, []uint64{2, 3}, ids, "window 1 was lost")
		require.Equal(t, uint64(3), st.Lost)
		require.Equal(t, st.Lost, lost, "the lost window's Lost goes on with the newer window: %+v", st)
		require.Equal(t, st.LateDropped, late, "%+v", st)
	})

	t.Run("window suppressed", func(t *testing.T) {
		r := newRig(t, Options{Mode: Windowed, Window: time.Second, Incomplete: Suppress})
		require.NoError(t, r.m.Add(ctx, trade(schema.VenueBinance, 0, "100")))
		require.NoError(t, r.m.Add(ctx, trade(schema.VenueOKX, 100*ms, "100")))
		require.NoError(t, r.m.Add(ctx, lossS39ci(schema.VenueBinance, 0)), "a loss of unknown count: one")
		require.NoError(t, r.m.Add(ctx, trade(schema.VenueBinance, 1500*ms, "101")), "closes window 1: suppressed")
		require.NoError(t, r.m.Add(ctx, trade(schema.VenueOKX, 60*ms, "99")), "late")
		require.NoError(t, r.m.Add(ctx, trade(schema.VenueOKX, 1600*ms, "101")))
		r.none(t)
		r.clk.set(t0.Add(10 * time.Second))
		require.NoError(t, r.m.Flush(ctx))
		w := r.next(t)
		r.none(t)
		st := r.m.Stats()
		require.Equal(t, uint64(1), st.Suppressed)
		require.True(t, w.Complete, "window 2's own range lost nothing")
		require.Equal(t, uint64(1), st.Lost)
		require.Equal(t, st.Lost, w.Lost, "the suppressed window's Lost goes on with the next published: %+v", st)
		require.Equal(t, st.LateDropped, w.LateDropped, "%+v", st)
	})
}
