package session_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestAdvWindowFillsReachEveryConsumerInTradeIDOrder: a partial fill
// streamed before the cut, two more fills while no user-data stream is
// subscribed: after the reconnect OnExecReport and a dispatcher
// subscriber of schema.EventExecReport each get the two window fills
// exactly once (the streamed one not again), Reconciled, in increasing
// trade id, with the venue's cumulative quantities; then nothing else.
func TestAdvWindowFillsReachEveryConsumerInTradeIDOrder(t *testing.T) {
	subs := make(chan *schema.CanonicalEvent, 64)
	h := startRecon(t, startVenue(t), func(cfg *session.Config) {
		gaps := cfg.Subscribe
		cfg.Subscribe = func(d *dispatch.Dispatcher) error {
			if err := gaps(d); err != nil {
				return err
			}
			_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, &dispatch.SubscribeOptions{
				Handler: func(ev *schema.CanonicalEvent) { subs <- ev }})
			return err
		}
	})
	nextSub := func() *schema.CanonicalEvent {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), generous)
		defer cancel()
		select {
		case ev := <-subs:
			return ev
		case <-ctx.Done():
			require.FailNow(t, "no execution report on the dispatcher")
			return nil
		}
	}
	id := h.place("tw-1", "0.03")
	require.Equal(t, schema.ExecNew, nextSub().Exec.ExecType)
	require.NoError(t, h.v.FillOrder(id, "0.01"))
	streamed := h.next()
	require.False(t, streamed.Reconciled)
	require.Equal(t, streamed.TradeID, nextSub().Exec.TradeID)

	h.window(func() {
		require.NoError(t, h.v.FillOrder(id, "0.01"))
		require.NoError(t, h.v.FillOrder(id, "0.01"))
	})
	tradeID := func(x schema.ID) uint64 {
		n, err := strconv.ParseUint(x.String(), 10, 64)
		require.NoError(t, err, "trade id %q", x)
		return n
	}
	r1, r2 := h.next(), h.next()
	assertFill(t, r1, schema.StatusPartiallyFilled, "0.01", "0.02", "20")
	assertFill(t, r2, schema.StatusFilled, "0.01", "0.03", "30")
	assert.Less(t, tradeID(streamed.TradeID), tradeID(r1.TradeID))
	assert.Less(t, tradeID(r1.TradeID), tradeID(r2.TradeID), "in trade-id order")
	e1, e2 := nextSub(), nextSub()
	for i, p := range []struct {
		r *schema.ExecReport
		e *schema.Execution
	}{{r1, e1.Exec}, {r2, e2.Exec}} {
		require.NotNil(t, p.e, "dispatcher report %d carries its Exec", i)
		assert.True(t, p.e.Reconciled, "dispatcher report %d", i)
		assert.Equal(t, p.r.TradeID, p.e.TradeID, "dispatcher report %d: the same fill, in the same order", i)
		assert.Zero(t, p.r.CumFillQty.Cmp(p.e.CumFillQty), "dispatcher report %d", i)
	}
	h.untracked()
	h.nothingElse()
	assert.Equal(t, schema.ExecNew, nextSub().Exec.ExecType, "the dispatcher's next report is the probe's NEW: nothing twice")
	assert.Equal(t, uint64(2), h.s.Stats().Order.Reconciled)
}
