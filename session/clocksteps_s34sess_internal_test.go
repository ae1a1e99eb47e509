package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// The session's rate keepers read Client.Clock's Now, which a host's
// clock (a replay's, one without Go's monotonic reading) may step back.
// A step back must not make them wait the step (an order held an hour
// for a clock set back an hour): the times they hold are taken as no
// later than now, so one waits at most its own span. Before: the order
// rate slept 1 h 2 s, the resubscriptions' pacer about 55 min, the
// reconciliation's bucket 1 h.
func TestS34sessRatesSurviveClockStepBack(t *testing.T) {
	ctx := context.Background()
	const back = time.Hour
	t.Run("orderRate", func(t *testing.T) {
		clk := &stepClock{Clock: wsclient.SystemClock(), now: time.Unix(100000, 0)}
		okx := venues[schema.VenueOKX].orderRate
		o := newOrderRate(okx.n, okx.per, clk)
		place := &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "BTC-USDT"}
		for range okx.n {
			require.NoError(t, o.wait(ctx, place))
		}
		clk.now = clk.now.Add(-back)
		require.NoError(t, o.wait(ctx, place))
		var slept time.Duration
		for _, d := range clk.slept {
			slept += d
		}
		require.LessOrEqual(t, slept, okx.per, "waits at most the span, not the step: %v", clk.slept)
	})
	t.Run("pacer", func(t *testing.T) {
		clk := &stepClock{Clock: wsclient.SystemClock(), now: time.Unix(100000, 0)}
		okx := venues[schema.VenueOKX].budget
		p := newPacer(clk, 4, okx.rate, okx.burst)
		for range 2 {
			require.NoError(t, p.wait(ctx))
		}
		clk.slept = nil
		clk.now = clk.now.Add(-back)
		require.NoError(t, p.wait(ctx))
		var slept time.Duration
		for _, d := range clk.slept {
			slept += d
		}
		require.LessOrEqual(t, slept, 250*time.Millisecond, "waits at most the gap, not the step: %v", clk.slept)
	})
	t.Run("weightBucket", func(t *testing.T) {
		now := time.Unix(100000, 0)
		var slept time.Duration
		sleep := func(_ context.Context, d time.Duration) error { slept += d; now = now.Add(d); return nil }
		b := weightBucket{perMinute: 1200, tokens: 1200, now: func() time.Time { return now }}
		require.NoError(t, b.take(ctx, 4, sleep))
		now = now.Add(-back)
		require.NoError(t, b.take(ctx, 4, sleep))
		require.Zero(t, slept, "the bucket held 1196: a step back takes none of it")
	})
}
