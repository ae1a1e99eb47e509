package session_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/session"
)

// refuseDuplicates makes Kraken refuse, with text, a placement under the
// cl_ord_id of an open order, and every placement of cl "funds" with
// "EOrder:Insufficient funds".
func (v *krakenVenue) refuseDuplicates(text string) {
	v.setScript(func(o orderSeen) ([]string, bool) {
		v.mu.Lock()
		cl := str(o.arg["cl_ord_id"])
		refuse := ""
		for _, so := range v.orders {
			if so.cl == cl && so.status == "open" {
				refuse = text
			}
		}
		if cl == "funds" {
			refuse = "EOrder:Insufficient funds"
		}
		v.mu.Unlock()
		if refuse == "" {
			return v.script(o)
		}
		return []string{`{"method":"add_order","req_id":` + o.id + `,"success":false,"error":"` + refuse +
			`","time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`}, false
	})
}

// TestS28KrakenDuplicateIsTheOrder: Kraken keeps cl_ord_id unique among a
// client's open orders (Kraken "Spot Client Order Identifiers"), and its
// error list ("Spot Error Messages") does not name the refusal of a
// duplicate. A place of unknown outcome sent again with its cl_ord_id is
// refused: the session looks the id up and, the order being the place's,
// returns it as the Ack (as on Binance, OKX and Bybit) — whatever Kraken's
// text, when the id was of a place of unknown outcome; on a text that says
// duplicate otherwise. A refusal of another kind of a place never in
// doubt stands, without a lookup. Failed before: the refusal was
// returned, the host told it has no order while one works.
func TestS28KrakenDuplicateIsTheOrder(t *testing.T) {
	for _, text := range []string{"EOrder:Duplicate order", "EGeneral:Invalid arguments:cl_ord_id"} {
		t.Run(text, func(t *testing.T) {
			v := newKrakenVenue(t)
			h := startKrakenRecon(t, v, func(cfg *session.Config) { cfg.ReconcileWeight = 600000 })
			v.placeLost(h, "k1", "0.03")
			v.release()
			// The pass ran to its end: its queries and the lookup below,
			// signed with nonces of one key, do not race to Kraken (one
			// arriving after a later nonce is refused, and tried again).
			require.Eventually(t, func() bool {
				st := h.s.Stats().Order
				return st.Tracked == 1 && st.Reconciliations == 1 && st.OpenCountKnown
			}, generous, pollEvery, "the pass follows it")
			v.refuseDuplicates(text)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			req := limitOrder(h.s, t, "k1", "buy", "1000", "0.03")
			defer h.s.Pools().Orders.Put(req)
			ack, err := h.s.Place(ctx, req)
			require.NoError(t, err, "Kraken's refusal of the id is the existing order")
			assert.Equal(t, v.order("k1").id, ack.VenueOrderID.String())
			assert.Equal(t, "k1", ack.ClientOrderID.String())
			assert.Equal(t, 1, h.s.Stats().Order.Tracked)

			// Another order under the id (another price): the refusal stands.
			other := limitOrder(h.s, t, "k1", "buy", "1001", "0.03")
			defer h.s.Pools().Orders.Put(other)
			_, err = h.s.Place(ctx, other)
			var verr *session.VenueError
			require.ErrorAs(t, err, &verr)
			assert.Equal(t, text, verr.Msg)

			// A refusal of another kind, of a place never in doubt: no lookup.
			before := v.queried(normalize.KrakenPathOpenOrders)
			funds := limitOrder(h.s, t, "funds", "buy", "1000", "0.03")
			defer h.s.Pools().Orders.Put(funds)
			_, err = h.s.Place(ctx, funds)
			require.ErrorAs(t, err, &verr)
			assert.Equal(t, "EOrder:Insufficient funds", verr.Msg)
			assert.Equal(t, before, v.queried(normalize.KrakenPathOpenOrders), "not looked up")
			v.clean(t)
		})
	}
}
