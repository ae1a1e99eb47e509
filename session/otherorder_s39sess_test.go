package session_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// s39sessCancelBody is Binance's WS-API answer to order.cancel (WebSocket
// API "Cancel order (TRADE)"): origClientOrderId is the cancelled order's
// client id, clientOrderId the cancel's own (newClientOrderId, generated
// when not sent), orderId the cancelled order's.
func s39sessCancelBody(id uint64, orig string, orderID int) string {
	return fmt.Sprintf(`{"id":%d,"status":200,"result":{"symbol":"BTCUSDT","origClientOrderId":%q,"orderId":%d,"orderListId":-1,`+
		`"clientOrderId":"91fe37ce9e69c90d6358c0","transactTime":1700000000000,"price":"1000.00000000","origQty":"0.50000000",`+
		`"executedQty":"0.00000000","cummulativeQuoteQty":"0.00000000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT",`+
		`"side":"BUY","stopPrice":"0.00000000","selfTradePreventionMode":"NONE"}}`, id, orig, orderID)
}

// TestS39sessBinanceAckOfAnotherOrderIsErrBadAnswer: on Binance's WS-API
// an answer paired by its request id that names another order than the
// request's is no answer of this order, as on OKX, Bybit and Kraken
// (TestS38rvsessAckOfAnotherOrderIsErrBadAnswer): a place whose
// clientOrderId is not the request's newClientOrderId, a cancel whose
// origClientOrderId or orderId is not the one the request named (WebSocket
// API "Place new order (TRADE)", "Cancel order (TRADE)": the venue echoes
// them). The caller gets ErrBadAnswer, not the other order's ids; a
// cancel's own clientOrderId (the venue's id for the cancel) is not the
// order's. Before s39sess the Binance path handed on whatever order the
// answer named.
func TestS39sessBinanceAckOfAnotherOrderIsErrBadAnswer(t *testing.T) {
	url, _ := s39sessAPI(t, func(_ int, id uint64, msg []byte) string {
		switch m := string(msg); {
		case strings.Contains(m, "userDataStream.subscribe"):
			return fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, id)
		case queryAnswer(msg) != "":
			return fmt.Sprintf(`{"id":%d,%s}`, id, queryAnswer(msg))
		case strings.Contains(m, `"order.place"`) && strings.Contains(m, `"mine5"`):
			return fmt.Sprintf(`{"id":%d,"status":200,"result":{}}`, id)
		case strings.Contains(m, `"order.place"`) && strings.Contains(m, `"mine1"`):
			return ackBody(id, "someoneElse1", 999)
		case strings.Contains(m, `"order.place"`):
			return ackBody(id, "mine2", 7)
		case strings.Contains(m, `"order.cancel"`) && strings.Contains(m, `"mine2"`):
			return s39sessCancelBody(id, "mine2", 7)
		case strings.Contains(m, `"order.cancel"`) && strings.Contains(m, `"mine3"`):
			return s39sessCancelBody(id, "someoneElse3", 7)
		case strings.Contains(m, `"order.cancel"`):
			return s39sessCancelBody(id, "someoneElse4", 8)
		}
		return ""
	})
	ep := endpoints(startVenue(t))
	ep.API = url
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true})
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()

	req := limitOrder(s, t, "mine1", "BUY", "1000.00", "0.5")
	ack, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.ErrorIs(t, err, session.ErrBadAnswer, "a place answered with another order: %+v", ack)
	assert.True(t, ack.VenueOrderID.IsZero(), "the other order's id is not handed on")

	req = limitOrder(s, t, "mine2", "BUY", "1000.00", "0.5")
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err, "the connection carries on")

	cancelOf := func(orig string, venueID string) (session.Ack, error) {
		req, err := s.Pools().Orders.Get(ctx)
		require.NoError(t, err)
		defer s.Pools().Orders.Put(req)
		req.Symbol = "BTC-USDT"
		if orig != "" {
			req.OrigClientOrderID = schema.MustID(orig)
		}
		if venueID != "" {
			req.VenueOrderID = schema.MustID(venueID)
		}
		return s.Cancel(ctx, req)
	}
	req = limitOrder(s, t, "mine5", "BUY", "1000.00", "0.5")
	ack, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.ErrorIs(t, err, session.ErrBadAnswer, "a success naming no order: %+v", ack)

	ack, err = cancelOf("mine2", "")
	require.NoError(t, err, "the cancel's own clientOrderId is not the order's")
	assert.Equal(t, "7", ack.VenueOrderID.String())
	ack, err = cancelOf("mine3", "")
	require.ErrorIs(t, err, session.ErrBadAnswer, "a cancel answered with another order's origClientOrderId: %+v", ack)
	ack, err = cancelOf("", "7")
	require.ErrorIs(t, err, session.ErrBadAnswer, "a cancel answered with another orderId: %+v", ack)
}

// TestS39sessCancelAnsweredForAnotherOrder: the same rule for a cancel on
// OKX, Bybit and Kraken: an accepted cancel whose answer names another
// order than the one the request named (OKX v5 "Cancel order": clOrdId;
// Bybit v5 "WebSocket Trade" order.cancel: orderLinkId; Kraken
// "cancel_order": cl_ord_id) is ErrBadAnswer, not a cancel of this order.
func TestS39sessCancelAnsweredForAnotherOrder(t *testing.T) {
	other := map[schema.Venue]func(o orderSeen) string{
		schema.VenueOKX: func(o orderSeen) string {
			return `{"id":"` + o.id + `","op":"` + o.op + `","code":"0","msg":"","data":[{"clOrdId":"someoneElse1","ordId":"999","ts":"1700000000000","sCode":"0","sMsg":""}],"inTime":"1","outTime":"2"}`
		},
		schema.VenueBybit: func(o orderSeen) string {
			return `{"reqId":"` + o.id + `","retCode":0,"retMsg":"OK","op":"` + o.op + `","data":{"orderId":"999","orderLinkId":"someoneElse1"},"header":{"Timenow":"1700000000000"}}`
		},
		schema.VenueKraken: func(o orderSeen) string {
			return `{"method":"` + o.op + `","req_id":` + o.id + `,"success":true,"result":{"order_id":"OAAAAA-BBBBB-CCCCCC","cl_ord_id":"someoneElse1"},"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`
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
			req, err := s.Pools().Orders.Get(ctx)
			require.NoError(t, err)
			defer s.Pools().Orders.Put(req)
			req.Symbol, req.OrigClientOrderID = "BTC-USDT", schema.MustID("mine1")
			ack, err := s.Cancel(ctx, req)
			require.ErrorIs(t, err, session.ErrBadAnswer, "%+v", ack)
			assert.True(t, ack.VenueOrderID.IsZero(), "the other order's id is not handed on")
		})
	}
}
