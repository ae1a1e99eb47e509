package normalize

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS25FuturesReduceOnlyMinNotional: Binance USDⓈ-M futures' MIN_NOTIONAL
// ("notional") does not hold for a reduce-only order (USDⓈ-M "Error Codes
// → -4164 MIN_NOTIONAL": "Order's notional must be no smaller than %s
// (unless you choose reduce only)"): closing the rest of a position
// smaller than the minimum is an order the venue takes. A futures market
// order is held to it at the mark price ("Since MARKET orders have no
// price, the mark price is used": CheckAt's ref). Spot has no such
// exemption.
func TestS25FuturesReduceOnlyMinNotional(t *testing.T) {
	ins, err := ParseBinanceExchangeInfo([]byte(`{"symbols":[
{"symbol":"BTCUSDT","pair":"BTCUSDT","contractType":"PERPETUAL","deliveryDate":4133404800000,"status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[
 {"filterType":"PRICE_FILTER","minPrice":"0.10","maxPrice":"4529764","tickSize":"0.10"},
 {"filterType":"LOT_SIZE","minQty":"0.001","maxQty":"1000","stepSize":"0.001"},
 {"filterType":"MIN_NOTIONAL","notional":"100"}]}]}`))
	require.NoError(t, err)
	require.Len(t, ins, 1)
	r := ins[0].Rules
	d := schema.MustParseDecimal
	limit := &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "BTC-USDT-PERP", Side: schema.SideSell, Type: schema.OrderTypeLimit, Price: d("50000"), Qty: d("0.001")}
	var re *RuleError
	require.True(t, errors.As(r.Check(limit), &re), "50 USDT under the minimum of 100")
	require.Equal(t, []string{"Notional", "min"}, []string{re.Field, re.Rule})
	limit.ReduceOnly = true
	require.NoError(t, r.Check(limit), "a reduce-only order is exempt (-4164: unless you choose reduce only)")

	market := &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "BTC-USDT-PERP", Side: schema.SideSell, Type: schema.OrderTypeMarket, Qty: d("0.001")}
	require.True(t, errors.As(r.CheckAt(market, d("50000")), &re), "a market order at the mark price: 50 USDT")
	require.Equal(t, []string{"Notional", "market min"}, []string{re.Field, re.Rule})
	market.ReduceOnly = true
	require.NoError(t, r.CheckAt(market, d("50000")), "a reduce-only market order is exempt")

	spot, err := ParseBinanceExchangeInfo([]byte(`{"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[
 {"filterType":"NOTIONAL","minNotional":"100","applyMinToMarket":true,"maxNotional":"0","applyMaxToMarket":false,"avgPriceMins":5}]}]}`))
	require.NoError(t, err)
	limit.Symbol = "BTC-USDT"
	require.Error(t, spot[0].Rules.Check(limit), "spot knows no reduce-only exemption")
}

// TestS25ExchangeMaxNumOrders: Binance's exchange filters bound the orders
// an account may have open on the whole exchange (spot "Filters →
// Exchange Filters": EXCHANGE_MAX_NUM_ORDERS, "both 'algo' orders and
// normal orders are counted"; EXCHANGE_MAX_NUM_ALGO_ORDERS): every
// instrument of the list carries them.
func TestS25ExchangeMaxNumOrders(t *testing.T) {
	ins, err := ParseBinanceExchangeInfo([]byte(`{"exchangeFilters":[{"filterType":"EXCHANGE_MAX_NUM_ORDERS","maxNumOrders":1000},
 {"filterType":"EXCHANGE_MAX_NUM_ALGO_ORDERS","maxNumAlgoOrders":200}],"symbols":[
{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[{"filterType":"MAX_NUM_ORDERS","maxNumOrders":200}]},
{"symbol":"ETHUSDT","status":"TRADING","baseAsset":"ETH","quoteAsset":"USDT","filters":[]}]}`))
	require.NoError(t, err)
	require.Len(t, ins, 2)
	for _, in := range ins {
		require.Equal(t, 1000, in.Rules.ExchangeMaxNumOrders, in.Symbol)
		require.Equal(t, 200, in.Rules.ExchangeMaxNumAlgoOrders, in.Symbol)
	}
	require.Equal(t, 200, ins[0].Rules.MaxNumOrders)
}
