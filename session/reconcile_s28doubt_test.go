package session_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
)

// TestS28KrakenDoubtEndsWithTheOrder: Kraken keeps cl_ord_id unique among
// OPEN orders only (Kraken "Spot Client Order Identifiers"), so a refusal
// is about a duplicate only while an open order holds the id. A place of
// unknown outcome, resolved to the order Kraken has, then that order
// canceled: the host may use the id again, and Kraken's refusal of that
// new place for another reason (funds) is the refusal — never the old,
// ended order returned as its Ack. Failed before: the id stayed in doubt
// and the lookup adopted the canceled order.
func TestS28KrakenDoubtEndsWithTheOrder(t *testing.T) {
	v := newKrakenVenue(t)
	h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
	v.placeLost(h, "k1", "0.03")
	v.release()
	require.Eventually(t, func() bool {
		st := h.s.Stats().Order
		return st.Tracked == 1 && st.Reconciliations == 1 && st.OpenCountKnown
	}, generous, pollEvery, "the pass follows it")
	v.end("k1", "canceled")
	require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 0 }, generous, pollEvery, "the cancel seen")

	v.setScript(func(o orderSeen) ([]string, bool) {
		return []string{`{"method":"add_order","req_id":` + o.id + `,"success":false,"error":"EOrder:Insufficient funds","time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`}, false
	})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(h.s, t, "k1", "buy", "1000", "0.03")
	defer h.s.Pools().Orders.Put(req)
	ack, err := h.s.Place(ctx, req)
	var verr *session.VenueError
	require.ErrorAs(t, err, &verr, "the refusal stands; got the Ack %+v", ack)
	assert.Equal(t, "EOrder:Insufficient funds", verr.Msg)
	v.clean(t)
}
