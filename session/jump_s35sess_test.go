package session_test

import (
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// lostFill fills qty of the order with client order id cl without
// streaming it, the private connection up: a report lost in transit.
func (v *simVenue) lostFill(cl, qty string) {
	o := v.order(cl)
	v.mu.Lock()
	defer v.mu.Unlock()
	subs := v.subs
	v.subs = map[*websocket.Conn]bool{}
	v.fillLocked(o, 1, qty)
	v.subs = subs
}

// orderQueries is how many order queries the venue answered (OKX
// /api/v5/trade/order, Bybit /v5/order/realtime).
func (v *simVenue) orderQueries() int {
	if v.okx() {
		return v.queried("/api/v5/trade/order")
	}
	return v.queried("/v5/order/realtime")
}

// TestS35CumulativeJumpReconciled: on OKX and Bybit, with the private
// stream up, a fill report is lost in transit (the venue filled 0.01 and
// pushed nothing); the next fills' reports say more executed (OKX
// accFillSz, Bybit cumExecQty) than the fills delivered make up. The
// session asks the venue about that order alone, once, and delivers the
// lost fill, Reconciled, exactly once; no reconciliation pass starts.
// The later fills come in a burst: one order query all the same. Before
// s35sess nothing asked: the fill was lost until a reconnect, if any.
func TestS35CumulativeJumpReconciled(t *testing.T) {
	for _, c := range orderCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			v := newSimVenue(t, c.venue)
			h := startVenueRecon(t, c, v, nil)
			h.place("j1", "0.05")
			v.fill("j1", 1, "0.01")
			require.False(t, h.nextFill().Reconciled, "streamed")
			queries := v.orderQueries()

			v.lostFill("j1", "0.01")
			v.fill("j1", 2, "0.01") // a burst: each report says more executed than delivered
			for _, cum := range []string{"0.03", "0.04"} {
				r := h.nextFill()
				assert.False(t, r.Reconciled, "streamed")
				assert.Zero(t, r.CumFillQty.Cmp(d(cum)), "cum %s", r.CumFillQty)
			}
			assertVenueFill(t, h.nextFill(), schema.StatusPartiallyFilled, "0.01", "0.02", "0.05")
			st := h.s.Stats().Order
			assert.Equal(t, uint64(1), st.Reconciled, "the lost fill, once")
			assert.Zero(t, st.Reconciliations, "no pass")
			assert.Zero(t, st.ReconcileGaps)
			assert.Equal(t, 1, v.orderQueries()-queries, "one order query for the burst")
			h.nothingElse()
		})
	}
}

// TestS35CumulativeJumpUnanswered: the order query the jump starts finds
// no such order (OKX 51603; Bybit an empty list): the venue cannot say
// what filled. The host gets a gap marker of execution reports naming the
// order, not silence.
func TestS35CumulativeJumpUnanswered(t *testing.T) {
	for _, c := range orderCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			v := newSimVenue(t, c.venue)
			h := startVenueRecon(t, c, v, nil)
			h.place("j2", "0.05")
			v.lostFill("j2", "0.01")
			if v.okx() {
				v.failNextOn("/api/v5/trade/order", 1, `200 {"code":"51603","msg":"Order does not exist","data":[]}`)
			} else {
				v.failNextOn("/v5/order/realtime", 1, `200 {"retCode":0,"retMsg":"OK","result":{"category":"spot","nextPageCursor":"","list":[]},"retExtInfo":{},"time":1}`)
			}
			v.fill("j2", 1, "0.01")
			r := h.nextFill()
			assert.False(t, r.Reconciled, "streamed")
			g := recv(t, h.gaps, "gap marker")
			assert.Equal(t, []any{schema.EventExecReport, schema.GapVenue, v.order("j2").id},
				[]any{g.Control.GapType, g.Control.GapSource, g.Exec.VenueOrderID.String()})
			assert.Zero(t, h.s.Stats().Order.Reconciliations, "no pass")
		})
	}
}
