package session_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS27FillBeforeAck: on OKX and Bybit an order's fill may reach the
// private stream before the answer to its placement reaches the trade
// connection (two connections, or one whose pushes and answers the venue
// does not order). The fill is delivered once, the order is the
// session's own (its fills are the session's to deliver, from the
// first), and after a window the reconciliation delivers the window's
// fill only, not the first again.
func TestS27FillBeforeAck(t *testing.T) {
	for _, c := range orderCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			v := newSimVenue(t, c.venue)
			h := startVenueRecon(t, c, v, nil)
			v.mu.Lock()
			v.fillFirst = true
			v.mu.Unlock()
			h.place("ff1", "0.05")
			r := h.nextFill()
			assert.False(t, r.Reconciled)
			assert.Zero(t, r.CumFillQty.Cmp(d("0.01")))
			v.mu.Lock()
			v.fillFirst = false
			v.mu.Unlock()
			v.window(func() { v.fill("ff1", 1, "0.01") })
			assertVenueFill(t, h.nextFill(), schema.StatusPartiallyFilled, "0.01", "0.02", "0.05")
			require.Equal(t, 1, h.s.Stats().Order.Tracked)
			h.nothingElse()
		})
	}
}
