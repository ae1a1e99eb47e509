package normalize

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS24rvFuturesPercentPrice: USDⓈ-M and COIN-M futures state
// PERCENT_PRICE one inequality per side (Binance USDⓈ-M Futures "Common
// Definition → Filters → PERCENT_PRICE": "BUY: price <= markPrice *
// multiplierUp; SELL: price >= markPrice * multiplierDown"): a buy has no
// floor and a sell no ceiling, unlike spot's two-sided band. A resting
// bid far below the mark is an order the venue takes; CheckAt must not
// refuse it. COIN-M names its status "contractStatus"; futures'
// MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS say "limit" (spot's
// maxNumOrders, maxNumAlgoOrders).
func TestS24rvFuturesPercentPrice(t *testing.T) {
	ins, err := ParseBinanceExchangeInfo([]byte(`{"symbols":[
{"symbol":"BTCUSDT","pair":"BTCUSDT","contractType":"PERPETUAL","deliveryDate":4133404800000,"status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[
 {"filterType":"PRICE_FILTER","minPrice":"0.10","maxPrice":"4529764","tickSize":"0.10"},
 {"filterType":"PERCENT_PRICE","multiplierUp":"1.0500","multiplierDown":"0.9500","multiplierDecimal":"4"},
 {"filterType":"MAX_NUM_ORDERS","limit":200},{"filterType":"MAX_NUM_ALGO_ORDERS","limit":10}]},
{"symbol":"BTCUSD_PERP","pair":"BTCUSD","contractType":"PERPETUAL","deliveryDate":4133404800000,"contractStatus":"DELIVERING","baseAsset":"BTC","quoteAsset":"USD","filters":[
 {"filterType":"PERCENT_PRICE","multiplierUp":"1.0500","multiplierDown":"0.9500","multiplierDecimal":"4"}]}]}`))
	require.NoError(t, err)
	require.Len(t, ins, 2)
	d := schema.MustParseDecimal
	ref := d("100")
	order := func(side schema.Side, price string) *schema.OrderRequest {
		return &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "BTC-USDT-PERP", Side: side, Type: schema.OrderTypeLimit, Price: d(price), Qty: d("1")}
	}
	for _, in := range ins {
		r := in.Rules
		r.Trading = TradingUnknown // the band alone
		require.NoError(t, r.CheckAt(order(schema.SideBuy, "50"), ref), "%s: a buy far below the mark: no floor", in.Symbol)
		require.NoError(t, r.CheckAt(order(schema.SideBuy, "105"), ref), "%s: a buy at mark × multiplierUp", in.Symbol)
		require.NoError(t, r.CheckAt(order(schema.SideSell, "200"), ref), "%s: a sell far above the mark: no ceiling", in.Symbol)
		require.NoError(t, r.CheckAt(order(schema.SideSell, "95"), ref), "%s: a sell at mark × multiplierDown", in.Symbol)
		var re *RuleError
		require.True(t, errors.As(r.CheckAt(order(schema.SideBuy, "105.1"), ref), &re), in.Symbol)
		require.Equal(t, "percent price max", re.Rule)
		require.True(t, errors.As(r.CheckAt(order(schema.SideSell, "94.9"), ref), &re), in.Symbol)
		require.Equal(t, "percent price min", re.Rule)
	}
	require.Equal(t, 200, ins[0].Rules.MaxNumOrders, "USDⓈ-M MAX_NUM_ORDERS says \"limit\"")
	require.Equal(t, 10, ins[0].Rules.MaxNumAlgoOrders)
	require.Equal(t, TradingOpen, ins[0].Rules.Trading)
	require.Equal(t, TradingHalted, ins[1].Rules.Trading, "COIN-M contractStatus DELIVERING")
}
