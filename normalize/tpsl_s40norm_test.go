package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS40normBybitTpslDirection: Bybit v5 stopOrderType "tpslOrder" (a
// spot TP/SL order: one trigger) says no kind; the order's
// triggerDirection does (Bybit v5 "Place Order" / "Order": 1 triggered
// when the market price rises to triggerPrice, 2 when it falls), and
// without one its triggerPrice against lastPriceOnCreated. A sell that
// triggers on a rise takes profit, on a fall stops a loss; a buy the
// other way round. Before s40norm every tpslOrder was a stop-loss: a sell
// take-profit above the market was reported StopLoss.
func TestS40normBybitTpslDirection(t *testing.T) {
	for _, c := range []struct {
		side, typ, extra string
		want             schema.OrderType
	}{
		{"Sell", "Market", `"triggerDirection":1`, schema.OrderTypeTakeProfit},
		{"Sell", "Limit", `"triggerDirection":1`, schema.OrderTypeTakeProfitLimit},
		{"Sell", "Market", `"triggerDirection":2`, schema.OrderTypeStopLoss},
		{"Buy", "Limit", `"triggerDirection":1`, schema.OrderTypeStopLossLimit},
		{"Buy", "Market", `"triggerDirection":2`, schema.OrderTypeTakeProfit},
		// no direction: the trigger against the last price at creation
		{"Sell", "Limit", `"triggerDirection":0,"lastPriceOnCreated":"95"`, schema.OrderTypeTakeProfitLimit},
		{"Sell", "Limit", `"lastPriceOnCreated":"120"`, schema.OrderTypeStopLossLimit},
		{"Buy", "Market", `"lastPriceOnCreated":"120"`, schema.OrderTypeTakeProfit},
		// nothing to tell by: a stop-loss, as before (conditional either way)
		{"Sell", "Market", `"lastPriceOnCreated":""`, schema.OrderTypeStopLoss},
	} {
		name := c.side + " " + c.typ + " " + c.extra
		msg := strings.Replace(s37normBybitOrder("Untriggered", "100", "1672364262474", "1672364262457"),
			`"orderType":"Limit"`, `"orderType":"`+c.typ+`","stopOrderType":"tpslOrder","triggerPrice":"99",`+c.extra, 1)
		msg = strings.Replace(msg, `"side":"Sell"`, `"side":"`+c.side+`"`, 1)
		msg = strings.Replace(msg, `"category":"linear"`, `"category":"spot"`, 1)
		f := newConnFeed(t, schema.VenueBybit)
		evs, err := f.feed(1, msg)
		require.NoError(t, err, name)
		require.Len(t, evs, 1, name)
		assert.Equal(t, c.want, evs[0].Exec.Type, "order topic: "+name)

		// /v5/order/realtime reads the same order the same way
		q := `{"retCode":0,"retMsg":"OK","result":{"category":"spot","nextPageCursor":"","list":[{"symbol":"BTCUSDT","orderId":"5cf98598","orderLinkId":"x1","side":"` + c.side +
			`","orderType":"` + c.typ + `","stopOrderType":"tpslOrder","triggerPrice":"99",` + c.extra + `,"price":"100","qty":"1","timeInForce":"GTC","orderStatus":"Untriggered",` +
			`"cumExecQty":"0","cumExecValue":"0","avgPrice":"","createdTime":"1672364262444","updatedTime":"1672364262457"}]},"time":1672364262500}`
		os, _, err := ParseBybitOrders([]byte(q), NewSymbols(BybitSymbolRules()), nil)
		require.NoError(t, err, name)
		require.Len(t, os, 1, name)
		assert.Equal(t, c.want, os[0].Type, "order/realtime: "+name)
	}
}

// TestS40normCoinbaseAlgoOrderTypes: the order_type words Coinbase's docs
// name beyond the mapped six (UNKNOWN_ORDER_TYPE; TWAP and SCALED, the
// parents of twap_limit_gtd and scaled_limit_gtc, Coinbase "Get Order")
// have no canonical type: the report is delivered, typed Unknown — never
// refused, never read as a Limit that rests whole.
func TestS40normCoinbaseAlgoOrderTypes(t *testing.T) {
	for _, word := range []string{"UNKNOWN_ORDER_TYPE", "TWAP", "Twap", "SCALED", "Scaled"} {
		f := newConnFeed(t, schema.VenueCoinbase)
		msg := strings.Replace(string(coinbaseUser("snapshot", "OPEN", "0", "1", "0", "0")), `"order_type":"LIMIT"`, `"order_type":"`+word+`"`, 1)
		require.Contains(t, msg, word)
		evs, err := f.feed(1, msg)
		require.NoError(t, err, word)
		require.NotEmpty(t, evs, word)
		assert.Equal(t, schema.OrderTypeUnknown, evs[len(evs)-1].Exec.Type, word)
	}
}
