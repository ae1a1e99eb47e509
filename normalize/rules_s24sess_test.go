package normalize

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS24TradingStatus: every venue's instrument list says whether the
// instrument takes orders now, and which: Binance spot exchangeInfo
// "status" (TRADING; PRE_TRADING, POST_TRADING, END_OF_DAY, HALT,
// AUCTION_MATCH, BREAK take none: "Enums → Symbol status"), OKX "state"
// (live; suspend, preopen, test: "Get instruments"), Bybit "status"
// (Trading; PreLaunch, Delivering, Closed: "Enums → Symbol status"),
// Kraken "status" (online; cancel_only, post_only, limit_only,
// reduce_only: "Get Tradable Asset Pairs"), Coinbase Advanced Trade
// "trading_disabled", "is_disabled", "cancel_only", "limit_only",
// "post_only" ("List Public Products"). Check refuses what the status
// refuses, before the order is sent.
func TestS24TradingStatus(t *testing.T) {
	limit := func(mod func(o *schema.OrderRequest)) *schema.OrderRequest {
		o := &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "BTC-USDT", Side: schema.SideBuy, Type: schema.OrderTypeLimit,
			Price: schema.MustParseDecimal("100"), Qty: schema.MustParseDecimal("1")}
		if mod != nil {
			mod(o)
		}
		return o
	}
	market := func(o *schema.OrderRequest) { o.Type, o.Price = schema.OrderTypeMarket, schema.Decimal{} }
	postOnly := func(o *schema.OrderRequest) { o.PostOnly = true }
	reduce := func(o *schema.OrderRequest) { o.ReduceOnly = true }

	binance := func(status string) []byte {
		return []byte(`{"symbols":[{"symbol":"BTCUSDT","status":"` + status + `","baseAsset":"BTC","quoteAsset":"USDT","filters":[]}]}`)
	}
	okx := func(state string) []byte {
		return []byte(`{"code":"0","msg":"","data":[{"instType":"SPOT","instId":"BTC-USDT","baseCcy":"BTC","quoteCcy":"USDT","state":"` + state + `","tickSz":"0.1","lotSz":"0.00000001","minSz":"0.00001"}]}`)
	}
	bybit := func(status string) []byte {
		return []byte(`{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[{"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT","status":"` + status + `","lotSizeFilter":{"basePrecision":"0.000001"},"priceFilter":{"tickSize":"0.01"}}]}}`)
	}
	kraken := func(status string) []byte {
		return []byte(`{"error":[],"result":{"XXBTZUSD":{"wsname":"XBT/USD","status":"` + status + `","pair_decimals":1,"lot_decimals":8,"cost_decimals":5,"ordermin":"0.0001","costmin":"0.5"}}}`)
	}
	coinbase := func(flags string) []byte {
		return []byte(`{"products":[{"product_id":"BTC-USD","base_currency_id":"BTC","quote_currency_id":"USD","product_type":"SPOT","status":"online",` + flags + `"price_increment":"0.01","base_increment":"0.00000001"}]}`)
	}
	first := func(ins []Instrument, err error) InstrumentRules {
		t.Helper()
		require.NoError(t, err)
		require.Len(t, ins, 1)
		return ins[0].Rules
	}
	bybitParse := func(b []byte) ([]Instrument, error) { return ParseBybitInstruments(b) }

	for _, tc := range []struct {
		name   string
		rules  InstrumentRules
		passes []*schema.OrderRequest
		fails  []*schema.OrderRequest
	}{
		{"binance TRADING", first(ParseBinanceExchangeInfo(binance("TRADING"))), []*schema.OrderRequest{limit(nil), limit(market)}, nil},
		{"binance BREAK", first(ParseBinanceExchangeInfo(binance("BREAK"))), nil, []*schema.OrderRequest{limit(nil), limit(postOnly)}},
		{"binance HALT", first(ParseBinanceExchangeInfo(binance("HALT"))), nil, []*schema.OrderRequest{limit(nil)}},
		{"binance END_OF_DAY", first(ParseBinanceExchangeInfo(binance("END_OF_DAY"))), nil, []*schema.OrderRequest{limit(nil)}},
		{"okx live", first(ParseOKXInstruments(okx("live"))), []*schema.OrderRequest{limit(nil)}, nil},
		{"okx suspend", first(ParseOKXInstruments(okx("suspend"))), nil, []*schema.OrderRequest{limit(nil)}},
		{"okx test", first(ParseOKXInstruments(okx("test"))), nil, []*schema.OrderRequest{limit(nil)}},
		{"bybit Trading", first(bybitParse(bybit("Trading"))), []*schema.OrderRequest{limit(nil)}, nil},
		{"bybit Closed", first(bybitParse(bybit("Closed"))), nil, []*schema.OrderRequest{limit(nil)}},
		{"bybit PreLaunch", first(bybitParse(bybit("PreLaunch"))), []*schema.OrderRequest{limit(nil)}, nil}, // pre-market: its auction takes orders
		{"kraken online", first(ParseKrakenAssetPairs(kraken("online"))), []*schema.OrderRequest{limit(nil), limit(market)}, nil},
		{"kraken cancel_only", first(ParseKrakenAssetPairs(kraken("cancel_only"))), nil, []*schema.OrderRequest{limit(nil), limit(postOnly)}},
		{"kraken post_only", first(ParseKrakenAssetPairs(kraken("post_only"))), []*schema.OrderRequest{limit(postOnly)},
			[]*schema.OrderRequest{limit(nil), limit(market)}},
		{"kraken limit_only", first(ParseKrakenAssetPairs(kraken("limit_only"))), []*schema.OrderRequest{limit(nil), limit(postOnly)},
			[]*schema.OrderRequest{limit(market)}},
		{"kraken reduce_only", first(ParseKrakenAssetPairs(kraken("reduce_only"))), []*schema.OrderRequest{limit(reduce)},
			[]*schema.OrderRequest{limit(nil)}},
		{"coinbase online", first(ParseCoinbaseProducts(coinbase(`"trading_disabled":false,"cancel_only":false,"limit_only":false,"post_only":false,"is_disabled":false,`))),
			[]*schema.OrderRequest{limit(nil), limit(market)}, nil},
		{"coinbase trading_disabled", first(ParseCoinbaseProducts(coinbase(`"trading_disabled":true,`))), nil, []*schema.OrderRequest{limit(nil)}},
		{"coinbase view_only", first(ParseCoinbaseProducts(coinbase(`"view_only":true,`))), nil, []*schema.OrderRequest{limit(nil)}},
		{"coinbase is_disabled", first(ParseCoinbaseProducts(coinbase(`"is_disabled":true,`))), nil, []*schema.OrderRequest{limit(nil)}},
		{"coinbase cancel_only", first(ParseCoinbaseProducts(coinbase(`"cancel_only":true,`))), nil, []*schema.OrderRequest{limit(postOnly)}},
		{"coinbase limit_only", first(ParseCoinbaseProducts(coinbase(`"limit_only":true,`))), []*schema.OrderRequest{limit(nil)},
			[]*schema.OrderRequest{limit(market)}},
		{"coinbase post_only", first(ParseCoinbaseProducts(coinbase(`"post_only":true,`))), []*schema.OrderRequest{limit(postOnly)},
			[]*schema.OrderRequest{limit(nil)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, o := range tc.passes {
				require.NoError(t, tc.rules.Check(o), "%+v", o)
			}
			for _, o := range tc.fails {
				err := tc.rules.Check(o)
				var re *RuleError
				require.True(t, errors.As(err, &re), "%+v: %v", o, err)
				require.Equal(t, "Status", re.Field)
			}
			cancel := &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USDT", VenueOrderID: schema.MustID("1")}
			require.NoError(t, tc.rules.Check(cancel), "a cancel is never refused for the status")
		})
	}
	// A status word a venue adds is not known: it refuses nothing.
	for _, r := range []InstrumentRules{first(ParseBinanceExchangeInfo(binance("SOMETHING_NEW"))), first(ParseKrakenAssetPairs(kraken("something_new")))} {
		require.NoError(t, r.Check(limit(nil)))
	}
}

// TestS24KrakenCostDecimals: Kraken's "cost_decimals" ("scaling decimal
// places for cost", Get Tradable Asset Pairs) is the precision of a
// quote amount: a market buy by cash_order_qty with more decimals is
// refused before it is sent, and Round puts it on them.
func TestS24KrakenCostDecimals(t *testing.T) {
	ins, err := ParseKrakenAssetPairs([]byte(`{"error":[],"result":{"XXBTZUSD":{"wsname":"XBT/USD","status":"online","pair_decimals":1,"lot_decimals":8,"cost_decimals":5,"ordermin":"0.0001","costmin":"0.5"}}}`))
	require.NoError(t, err)
	require.Len(t, ins, 1)
	r := ins[0].Rules
	requireDigits(t, "0.00001", r.QuoteStep)
	o := &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "BTC-USD", Side: schema.SideBuy, Type: schema.OrderTypeMarket,
		QuoteQty: schema.MustParseDecimal("10.123456")}
	var re *RuleError
	require.True(t, errors.As(r.Check(o), &re))
	require.Equal(t, "QuoteQty", re.Field)
	require.NoError(t, r.Round(o))
	requireDigits(t, "10.12345", o.QuoteQty)
	require.NoError(t, r.Check(o))
}

// TestS24PriceBand: Binance's filters that need the market's reference
// price — the weighted average over avgPriceMins minutes ("Filters":
// PERCENT_PRICE_BY_SIDE: a buy's price within [avg × bidMultiplierDown,
// avg × bidMultiplierUp], a sell's within the ask multipliers;
// PERCENT_PRICE: multiplierDown and multiplierUp either side; NOTIONAL
// with applyMinToMarket: a MARKET order's avg × quantity) — are read
// from exchangeInfo, with MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS, and
// CheckAt applies them at a reference price the caller gives.
func TestS24PriceBand(t *testing.T) {
	ins, err := ParseBinanceExchangeInfo([]byte(`{"symbols":[
{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[
 {"filterType":"PRICE_FILTER","minPrice":"0.01","maxPrice":"1000000","tickSize":"0.01"},
 {"filterType":"PERCENT_PRICE_BY_SIDE","bidMultiplierUp":"1.2","bidMultiplierDown":"0.2","askMultiplierUp":"5","askMultiplierDown":"0.8","avgPriceMins":5},
 {"filterType":"NOTIONAL","minNotional":"5","applyMinToMarket":true,"maxNotional":"1000","applyMaxToMarket":true,"avgPriceMins":5},
 {"filterType":"MAX_NUM_ORDERS","maxNumOrders":200},{"filterType":"MAX_NUM_ALGO_ORDERS","maxNumAlgoOrders":5}]},
{"symbol":"ETHBTC","status":"TRADING","baseAsset":"ETH","quoteAsset":"BTC","filters":[
 {"filterType":"PERCENT_PRICE","multiplierUp":"1.3","multiplierDown":"0.7","avgPriceMins":5}]}]}`))
	require.NoError(t, err)
	require.Len(t, ins, 2)
	r := ins[0].Rules
	require.Equal(t, 200, r.MaxNumOrders)
	require.Equal(t, 5, r.MaxNumAlgoOrders)
	require.Equal(t, 5, r.AvgPriceMins)
	d := schema.MustParseDecimal
	ref := d("100")
	order := func(side schema.Side, typ schema.OrderType, price, qty string) *schema.OrderRequest {
		o := &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "BTC-USDT", Side: side, Type: typ, Qty: d(qty)}
		if price != "" {
			o.Price = d(price)
		}
		return o
	}
	for _, tc := range []struct {
		name  string
		o     *schema.OrderRequest
		field string // "" passes
		rule  string
	}{
		{"buy at the top of its band", order(schema.SideBuy, schema.OrderTypeLimit, "120", "0.1"), "", ""},
		{"buy above its band", order(schema.SideBuy, schema.OrderTypeLimit, "120.01", "0.1"), "Price", "percent price max"},
		{"buy at the bottom", order(schema.SideBuy, schema.OrderTypeLimit, "20", "0.5"), "", ""},
		{"buy below", order(schema.SideBuy, schema.OrderTypeLimit, "19.99", "0.5"), "Price", "percent price min"},
		{"sell above the bid's top: the ask's band", order(schema.SideSell, schema.OrderTypeLimit, "130", "0.1"), "", ""},
		{"sell below the ask's bottom", order(schema.SideSell, schema.OrderTypeLimit, "79.99", "0.1"), "Price", "percent price min"},
		{"market within notional", order(schema.SideBuy, schema.OrderTypeMarket, "", "0.06"), "", ""},
		{"market under the market min notional", order(schema.SideBuy, schema.OrderTypeMarket, "", "0.04"), "Notional", "market min"},
		{"market over the market max notional", order(schema.SideSell, schema.OrderTypeMarket, "", "10.01"), "Notional", "market max"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.CheckAt(tc.o, ref)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var re *RuleError
			require.True(t, errors.As(err, &re), "%v", err)
			require.Equal(t, []string{tc.field, tc.rule}, []string{re.Field, re.Rule})
			require.NoError(t, r.Check(tc.o), "Check alone, without a reference price, cannot tell")
			require.NoError(t, r.CheckAt(tc.o, schema.Decimal{}), "no reference price: not applied")
		})
	}
	e := ins[1].Rules
	o := order(schema.SideSell, schema.OrderTypeLimit, "69.99", "1")
	o.Symbol = "ETH-BTC"
	var re *RuleError
	require.True(t, errors.As(e.CheckAt(o, ref), &re))
	require.Equal(t, "percent price min", re.Rule)
	o.Price = d("130")
	require.NoError(t, e.CheckAt(o, ref))
	o.Side, o.Price = schema.SideBuy, d("130.01")
	require.True(t, errors.As(e.CheckAt(o, ref), &re))
	require.Equal(t, "percent price max", re.Rule)
}
