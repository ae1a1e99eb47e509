package session_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS38rvsessAckOfAnotherOrderIsErrBadAnswer: a venue's success to a
// place, paired by its request id, that names another order than the one
// placed (its client id not the request's: OKX clOrdId, Bybit
// orderLinkId, Kraken cl_ord_id — each echoed as sent: OKX v5 "Place
// order" response, Bybit v5 "WebSocket Trade" order.create response,
// Kraken "add_order" result) is no ack of this order: what became of it
// is unknown (ErrBadAnswer), and the other order's ids are not handed to
// the caller or followed as its. The connection carries on. Before
// s38rvsess it was an Ack naming the other order.
func TestS38rvsessAckOfAnotherOrderIsErrBadAnswer(t *testing.T) {
	other := map[schema.Venue]func(o orderSeen) string{
		schema.VenueOKX: func(o orderSeen) string {
			return `{"id":"` + o.id + `","op":"order","code":"0","msg":"","data":[{"clOrdId":"someoneElse1","ordId":"999","tag":"","ts":"1700000000000","sCode":"0","sMsg":""}],"inTime":"1","outTime":"2"}`
		},
		schema.VenueBybit: func(o orderSeen) string {
			return `{"reqId":"` + o.id + `","retCode":0,"retMsg":"OK","op":"order.create","data":{"orderId":"999","orderLinkId":"someoneElse1"},"header":{"Timenow":"1700000000000"}}`
		},
		schema.VenueKraken: func(o orderSeen) string {
			return `{"method":"add_order","req_id":` + o.id + `,"success":true,"result":{"order_id":"OAAAAA-BBBBB-CCCCCC","cl_ord_id":"someoneElse1"},"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`
		},
	}
	for _, c := range placeCases() {
		answer, ok := other[c.venue]
		if !ok {
			continue
		}
		t.Run(string(c.venue), func(t *testing.T) {
			f, s := connectedOrders(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			f.setScript(func(o orderSeen) ([]string, bool) { return []string{answer(o)}, false })
			ack, err := place(t, s, ctx, "mine1")
			require.ErrorIs(t, err, session.ErrBadAnswer, "%+v", ack)
			assert.True(t, ack.VenueOrderID.IsZero(), "the other order's id is not handed on")
			f.setScript(nil)
			_, err = place(t, s, ctx, "mine2")
			require.NoError(t, err, "the connection carries on")
		})
	}
}
