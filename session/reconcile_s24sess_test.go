package session_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestBybitCancelBeforeItsFill: Bybit streams an order's state (topic
// "order") and its fills (topic "execution") apart, in either order
// (Bybit v5 "WebSocket Stream → Private"): here a partly filled order's
// PartiallyFilledCanceled comes before the fill that made it partly
// filled. The host gets both, once; the session forgets the order (ended,
// its fill delivered), and the next reconnect neither follows it nor
// publishes its cancel again.
func TestBybitCancelBeforeItsFill(t *testing.T) {
	var c orderCase
	for _, oc := range orderCases() {
		if oc.venue == schema.VenueBybit {
			c = oc
		}
	}
	require.Equal(t, schema.VenueBybit, c.venue)
	v := newSimVenue(t, c.venue)
	h := startVenueRecon(t, c, v, nil)
	h.place("x1", "0.05")

	o := v.order("x1")
	v.mu.Lock()
	v.ms++
	q := d("0.02")
	o.cum = q
	f := simFill{qty: q, ms: v.ms, id: fmt.Sprintf("e0cbe81d-0f18-5866-%04d-%012d", 0, v.ms)}
	f.leaves, _ = o.qty.Sub(o.cum)
	o.fills = append(o.fills, f)
	v.ms++
	o.status, o.updated = "PartiallyFilledCanceled", v.ms
	v.push(v.orderPush(o), v.execPush(o, &o.fills[0])) // the end first, then its fill
	v.mu.Unlock()

	r := h.nextFill()
	assert.Equal(t, []any{false, schema.ExecCanceled, schema.StatusCanceled}, []any{r.Reconciled, r.ExecType, r.Status})
	r = h.nextFill()
	assert.Equal(t, []any{false, schema.ExecTrade}, []any{r.Reconciled, r.ExecType})
	require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 0 }, generous, pollEvery, "ended, its fill delivered: forgotten")

	v.window(func() {})
	h.nothingElse() // no second cancel, no fill again
	st := h.s.Stats().Order
	assert.Zero(t, st.Reconciled)
	assert.Zero(t, st.ReconcileGaps)
}
