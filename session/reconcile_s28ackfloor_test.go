package session_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS28AckAfterLaterFill: an order's first report the stream delivers
// is its second fill (the New and the first fill lost on the way), before
// the answer to its placement. Followed from that report as an order
// placed elsewhere, its first fill counts as before the session (the
// floor); the answer then says the order is the session's own, and every
// fill of its own order is the session's to deliver: after the next
// window the reconciliation delivers the first fill (Reconciled), and
// nothing else. Failed before: the floor stayed, the first fill was never
// delivered.
func TestS28AckAfterLaterFill(t *testing.T) {
	for _, c := range orderCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			v := newSimVenue(t, c.venue)
			h := startVenueRecon(t, c, v, nil)
			v.setScript(func(o orderSeen) ([]string, bool) {
				v.mu.Lock()
				defer v.mu.Unlock()
				so := v.create(o)
				subs := v.subs
				v.subs = nil // New and the first fill: not streamed
				v.fillLocked(so, 1, "0.01")
				v.subs = subs
				v.fillLocked(so, 1, "0.01")
				return []string{v.ack(o, so.id)}, false
			})
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			req := limitOrder(h.s, t, "fl1", "buy", "1000", "0.05")
			defer h.s.Pools().Orders.Put(req)
			_, err := h.s.Place(ctx, req)
			require.NoError(t, err)
			v.setScript(v.script)
			r := h.nextFill()
			assert.Equal(t, []any{false, "0.02"}, []any{r.Reconciled, r.CumFillQty.String()}, "the second fill, streamed")

			v.window(func() {})
			r = h.nextFill()
			assertVenueFill(t, r, schema.StatusPartiallyFilled, "0.01", "0.01", "0.05")
			assert.Equal(t, "fl1", r.ClientOrderID.String())
			require.Equal(t, 1, h.s.Stats().Order.Tracked)
			h.nothingElse()
		})
	}
}
