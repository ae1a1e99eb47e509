package normalize_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// Rules read from the venues' documents, each case with its source. A
// case's want is the RuleError's Field and Rule; "" for an order the venue
// accepts.

type ruleCase struct {
	name               string
	typ                schema.OrderType
	price, qty, quote  string
	wantField, wantRul string
}

func (c ruleCase) order(sym string) *schema.OrderRequest {
	o := &schema.OrderRequest{Symbol: sym, Side: schema.SideBuy, Type: c.typ}
	for _, f := range []struct {
		s string
		d *schema.Decimal
	}{{c.price, &o.Price}, {c.qty, &o.Qty}, {c.quote, &o.QuoteQty}} {
		if f.s != "" {
			*f.d = schema.MustParseDecimal(f.s)
		}
	}
	return o
}

func runRuleCases(t *testing.T, r normalize.InstrumentRules, sym string, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := c.order(sym)
			require.NoError(t, o.Validate(), "the order itself is valid")
			err := r.Check(o)
			if c.wantField == "" {
				require.NoError(t, err)
				return
			}
			var re *normalize.RuleError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, c.wantField, re.Field)
			assert.Equal(t, c.wantRul, re.Rule)
			assert.NotEmpty(t, re.Error())
		})
	}
}

// Binance spot "Filters": MARKET_LOT_SIZE "defines the quantity rules for
// MARKET orders"; NOTIONAL's applyMinToMarket / applyMaxToMarket and
// MIN_NOTIONAL's applyToMarket say whether the notional bounds hold for
// MARKET orders. BTCUSDT carries a MARKET_LOT_SIZE whose maxQty (83.59…)
// is far under LOT_SIZE's (9000): a 100 BTC market order passed our
// checks and the venue answered -1013 "Filter failure: MARKET_LOT_SIZE".
// A market order by quote amount (quoteOrderQty) under NOTIONAL's
// minNotional, with applyMinToMarket, is -1013 "Filter failure:
// NOTIONAL" — ours passed it too.
func TestAdv5BinanceMarketFilters(t *testing.T) {
	const info = `{"symbols":[{"symbol":"BTCUSDT","baseAsset":"BTC","quoteAsset":"USDT","filters":[
 {"filterType":"PRICE_FILTER","minPrice":"0.01000000","maxPrice":"1000000.00000000","tickSize":"0.01000000"},
 {"filterType":"LOT_SIZE","minQty":"0.00001000","maxQty":"9000.00000000","stepSize":"0.00001000"},
 {"filterType":"MARKET_LOT_SIZE","minQty":"0.00100000","maxQty":"83.59378185","stepSize":"0.00100000"},
 {"filterType":"NOTIONAL","minNotional":"5.00000000","applyMinToMarket":true,"maxNotional":"9000000.00000000","applyMaxToMarket":true,"avgPriceMins":5}]},
 {"symbol":"ETHUSDT","baseAsset":"ETH","quoteAsset":"USDT","filters":[
 {"filterType":"NOTIONAL","minNotional":"5.00000000","applyMinToMarket":false,"maxNotional":"9000000.00000000","applyMaxToMarket":false,"avgPriceMins":5}]},
 {"symbol":"OLDBNB","baseAsset":"OLD","quoteAsset":"BNB","filters":[
 {"filterType":"MIN_NOTIONAL","minNotional":"0.00100000","applyToMarket":true,"avgPriceMins":5}]}]}`
	ins, err := normalize.ParseBinanceExchangeInfo([]byte(info))
	require.NoError(t, err)
	require.Len(t, ins, 3)
	m, l := schema.OrderTypeMarket, schema.OrderTypeLimit
	runRuleCases(t, ins[0].Rules, "BTC-USDT", []ruleCase{
		{"market over MARKET_LOT_SIZE max", m, "", "100", "", "Qty", "market max"},
		{"market at MARKET_LOT_SIZE max", m, "", "83.593", "", "", ""},
		{"market under MARKET_LOT_SIZE min", m, "", "0.0005", "", "Qty", "market min"},
		{"market off MARKET_LOT_SIZE step", m, "", "0.0015", "", "Qty", "market step size"},
		{"limit is not held to MARKET_LOT_SIZE", l, "10.00", "100", "", "", ""},
		{"limit off LOT_SIZE step", l, "10.00", "100.000001", "", "Qty", "step size"},
		{"quote market under minNotional (applyMinToMarket)", m, "", "", "4.99", "QuoteQty", "min"},
		{"quote market over maxNotional (applyMaxToMarket)", m, "", "", "9000000.01", "QuoteQty", "max"},
		{"quote market within", m, "", "", "5", "", ""},
	})
	runRuleCases(t, ins[1].Rules, "ETH-USDT", []ruleCase{
		{"quote market under minNotional, not applied to market", m, "", "", "1", "", ""},
		{"limit under minNotional", l, "1", "1", "", "Notional", "min"},
	})
	runRuleCases(t, ins[2].Rules, "OLD-BNB", []ruleCase{
		{"MIN_NOTIONAL applyToMarket", m, "", "", "0.0009", "QuoteQty", "min"},
	})

	// Round puts a market quantity on MARKET_LOT_SIZE's step too, down.
	r := ins[0].Rules
	o := ruleCase{typ: m, qty: "1.23456"}.order("BTC-USDT")
	require.NoError(t, r.Round(o))
	assert.True(t, o.Qty.Equal(schema.MustParseDecimal("1.234")), o.Qty.String())
	require.NoError(t, r.Check(o))
	o = ruleCase{typ: l, price: "10", qty: "1.23456"}.order("BTC-USDT")
	require.NoError(t, r.Round(o))
	assert.True(t, o.Qty.Equal(schema.MustParseDecimal("1.23456")), "a limit order is not held to the market step: %s", o.Qty)
}

// Steps that are not powers of ten (OKX lotSz "0.5" or contracts' "25",
// tick sizes "0.5" and "25"; Binance: "price % tickSize == 0", "quantity %
// stepSize == 0") and a tick written with trailing zeros or in
// exponent form ("0.00001000", "1e-05").
func TestAdv5StepsNotPowersOfTen(t *testing.T) {
	d := schema.MustParseDecimal
	l := schema.OrderTypeLimit
	runRuleCases(t, normalize.InstrumentRules{TickSize: d("0.5"), StepSize: d("25")}, "X-Y", []ruleCase{
		{"on both", l, "100.5", "50", "", "", ""},
		{"price off 0.5", l, "100.25", "50", "", "Price", "tick size"},
		{"qty off 25", l, "100", "60", "", "Qty", "step size"},
		{"qty 25 written 25.000", l, "100", "25.000", "", "", ""},
	})
	runRuleCases(t, normalize.InstrumentRules{TickSize: d("25"), StepSize: d("0.5")}, "X-Y", []ruleCase{
		{"tick 25", l, "1075", "1.5", "", "", ""},
		{"off tick 25", l, "1080", "1.5", "", "Price", "tick size"},
		{"off step 0.5", l, "1075", "1.25", "", "Qty", "step size"},
	})
	for _, tick := range []string{"0.00001000", "1e-05", "1E-5"} {
		ins, err := normalize.ParseBinanceExchangeInfo([]byte(`{"symbols":[{"symbol":"XY","baseAsset":"X","quoteAsset":"Y","filters":[{"filterType":"PRICE_FILTER","minPrice":"0","maxPrice":"0","tickSize":"` + tick + `"}]}]}`))
		require.NoError(t, err, tick)
		runRuleCases(t, ins[0].Rules, "X-Y", []ruleCase{
			{tick + " on", l, "0.12345", "1", "", "", ""},
			{tick + " off", l, "0.123456", "1", "", "Price", "tick size"},
		})
	}
	// Round: a buy's price down, a sell's up, to 0.5; the quantity down to 25.
	r := normalize.InstrumentRules{TickSize: d("0.5"), StepSize: d("25")}
	o := &schema.OrderRequest{Symbol: "X-Y", Side: schema.SideBuy, Type: l, Price: d("100.9"), Qty: d("74.9")}
	require.NoError(t, r.Round(o))
	assert.Equal(t, "100.5", o.Price.String())
	assert.Equal(t, "50", o.Qty.String())
	o.Side, o.Price = schema.SideSell, d("100.1")
	require.NoError(t, r.Round(o))
	assert.Equal(t, "100.5", o.Price.String())
}

// Bybit v5 "Get Instruments Info": derivatives' maxOrderQty is the
// maximum "for Limit and PostOnly order", maxMktOrderQty the "Maximum
// quantity for Market order"; spot's minOrderAmt / maxOrderAmt bound the
// order value, a market buy by quote amount (marketUnit quoteCoin) too,
// and maxMarketOrderQty a market order's quantity. Refused by Bybit:
// 170136 "Order quantity exceeded upper limit", 170140 "Order value
// exceeded lower limit".
func TestAdv5BybitMarketBounds(t *testing.T) {
	spot := `{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[{"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT",
"priceFilter":{"tickSize":"0.1"},"lotSizeFilter":{"basePrecision":"0.000001","quotePrecision":"0.0000001","minOrderQty":"0.000011",
"maxOrderQty":"83","minOrderAmt":"5","maxOrderAmt":"8000000","maxLimitOrderQty":"83","maxMarketOrderQty":"41.5"}}],"nextPageCursor":""}}`
	linear := `{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"BTCUSDT","contractType":"LinearPerpetual","baseCoin":"BTC","quoteCoin":"USDT",
"priceFilter":{"minPrice":"0.10","maxPrice":"1999999.80","tickSize":"0.10"},"lotSizeFilter":{"maxOrderQty":"1190.000","minOrderQty":"0.001","qtyStep":"0.001",
"maxMktOrderQty":"119.000","minNotionalValue":"5"}}],"nextPageCursor":""}}`
	sp, err := normalize.ParseBybitInstruments([]byte(spot))
	require.NoError(t, err)
	li, err := normalize.ParseBybitInstruments([]byte(linear))
	require.NoError(t, err)
	m, l := schema.OrderTypeMarket, schema.OrderTypeLimit
	runRuleCases(t, sp[0].Rules, "BTC-USDT", []ruleCase{
		{"market quote under minOrderAmt", m, "", "", "4.9", "QuoteQty", "min"},
		{"market quote over maxOrderAmt", m, "", "", "8000001", "QuoteQty", "max"},
		{"market quote within", m, "", "", "10", "", ""},
		{"market base over maxMarketOrderQty", m, "", "50", "", "Qty", "market max"},
		{"limit 50 within maxLimitOrderQty", l, "60000.0", "50", "", "", ""},
		{"limit value over maxOrderAmt", l, "200000.0", "50", "", "Notional", "max"},
		{"market base off basePrecision", m, "", "0.0000015", "", "Qty", "step size"},
	})
	runRuleCases(t, li[0].Rules, "BTC-USDT-PERP", []ruleCase{
		{"market over maxMktOrderQty", m, "", "120", "", "Qty", "market max"},
		{"limit 120 within maxOrderQty", l, "60000.0", "120", "", "", ""},
	})
}

// OKX "Get instruments": maxMktSz is "the maximum order quantity of a
// single market order", in contracts for derivatives (in USDT for spot,
// which is no base quantity and not applied). Refused by OKX: 51202
// "Market order amount exceeds the maximum amount".
func TestAdv5OKXMaxMarketSize(t *testing.T) {
	const body = `{"code":"0","msg":"","data":[
{"instType":"SWAP","instId":"BTC-USDT-SWAP","uly":"BTC-USDT","settleCcy":"USDT","ctVal":"0.01","ctMult":"1","ctValCcy":"BTC","tickSz":"0.1","lotSz":"0.01","minSz":"0.01","maxLmtSz":"100000000","maxMktSz":"12000"},
{"instType":"SPOT","instId":"BTC-USDT","baseCcy":"BTC","quoteCcy":"USDT","tickSz":"0.1","lotSz":"0.00000001","minSz":"0.00001","maxLmtSz":"9999999999","maxMktSz":"1000000"}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) }))
	defer srv.Close()
	ins, err := normalize.FetchOKXInstruments(context.Background(), srv.Client(), srv.URL, "SWAP")
	require.NoError(t, err)
	require.Len(t, ins, 2)
	m := schema.OrderTypeMarket
	runRuleCases(t, ins[0].Rules, "BTC-USDT-PERP", []ruleCase{
		{"market contracts over maxMktSz", m, "", "12000.01", "", "Qty", "market max"},
		{"market contracts at maxMktSz", m, "", "12000", "", "", ""},
	})
	assert.True(t, ins[1].Rules.MarketMaxQty.IsZero(), "spot maxMktSz is USDT, not a base quantity")
}

// Kraken "Get Tradable Asset Pairs": costmin is the "minimum order cost
// (in terms of quote currency)"; a market buy by quote amount
// (cash_order_qty) costs that amount. Refused by Kraken:
// "EOrder:Cost minimum not met".
func TestAdv5KrakenCostMinOnQuoteAmount(t *testing.T) {
	const body = `{"error":[],"result":{"XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD","pair_decimals":1,"lot_decimals":8,"cost_decimals":5,"ordermin":"0.00005","costmin":"0.5","tick_size":"0.1"}}}`
	ins, err := normalize.ParseKrakenAssetPairs([]byte(body))
	require.NoError(t, err)
	m := schema.OrderTypeMarket
	runRuleCases(t, ins[0].Rules, "BTC-USD", []ruleCase{
		{"cash_order_qty under costmin", m, "", "", "0.49", "QuoteQty", "min"},
		{"cash_order_qty at costmin", m, "", "", "0.5", "", ""},
		{"order_qty under ordermin", m, "", "0.00004", "", "Qty", "min"},
		{"order_qty over lot_decimals", m, "", "0.000050001", "", "Qty", "step size"},
	})
}

// A quote amount is written in the quote asset's precision: Binance
// exchangeInfo's quoteAssetPrecision (a quoteOrderQty with more decimals
// is -1111 "Precision is over the maximum defined for this asset"), Bybit
// spot's quotePrecision (a market buy's amount with more is 170148 "Market
// order amount decimal too long").
func TestAdv5QuoteAmountPrecision(t *testing.T) {
	m := schema.OrderTypeMarket
	ins, err := normalize.ParseBinanceExchangeInfo([]byte(`{"symbols":[{"symbol":"BTCUSDT","baseAsset":"BTC","quoteAsset":"USDT","quoteAssetPrecision":2,"quotePrecision":8,"filters":[]}]}`))
	require.NoError(t, err)
	runRuleCases(t, ins[0].Rules, "BTC-USDT", []ruleCase{
		{"two decimals", m, "", "", "10.12", "", ""},
		{"three decimals", m, "", "", "10.123", "QuoteQty", "step size"},
		{"trailing zeros", m, "", "", "10.1200", "", ""},
	})
	o := ruleCase{typ: m, quote: "10.129"}.order("BTC-USDT")
	require.NoError(t, ins[0].Rules.Round(o))
	assert.True(t, o.QuoteQty.Equal(schema.MustParseDecimal("10.12")), "down, never more spent: %s", o.QuoteQty)

	by, err := normalize.ParseBybitInstruments([]byte(`{"retCode":0,"result":{"list":[{"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT",
"priceFilter":{"tickSize":"0.1"},"lotSizeFilter":{"basePrecision":"0.000001","quotePrecision":"0.0000001","minOrderAmt":"5","maxOrderAmt":"8000000"}}]}}`))
	require.NoError(t, err)
	runRuleCases(t, by[0].Rules, "BTC-USDT", []ruleCase{
		{"quotePrecision", m, "", "", "10.0000001", "", ""},
		{"past quotePrecision", m, "", "", "10.00000001", "QuoteQty", "step size"},
	})
	_, err = normalize.ParseBinanceExchangeInfo([]byte(`{"symbols":[{"symbol":"XY","baseAsset":"X","quoteAsset":"Y","quoteAssetPrecision":-1}]}`))
	var pe *normalize.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "quoteAssetPrecision", pe.Field)
}

// TestAdv5GridFromZeroNotFromMinimum: Binance spot API changelog,
// 2022-02-24: PRICE_FILTER's "(price-minPrice) % tickSize == 0" became
// "price % tickSize == 0"; "Filters" says "quantity % stepSize == 0" for
// LOT_SIZE. OKX's px and sz are multiples of tickSz and lotSz, Bybit's of
// tickSize and qtyStep. With a minimum off the grid (minPrice 5, tick 10;
// minQty 0.5, step 1) we refused 10 and 1, which the venue accepts, and
// sent 15 and 1.5, which it refuses.
func TestAdv5GridFromZeroNotFromMinimum(t *testing.T) {
	d := schema.MustParseDecimal
	l := schema.OrderTypeLimit
	r := normalize.InstrumentRules{MinPrice: d("5"), TickSize: d("10"), MinQty: d("0.5"), StepSize: d("1")}
	runRuleCases(t, r, "X-Y", []ruleCase{
		{"price 10, qty 1", l, "10", "1", "", "", ""},
		{"price 15", l, "15", "1", "", "Price", "tick size"},
		{"qty 1.5", l, "10", "1.5", "", "Qty", "step size"},
		{"price 0 < min", l, "0.0001", "1", "", "Price", "min"},
	})
	o := ruleCase{typ: l, price: "17", qty: "2.7"}.order("X-Y")
	require.NoError(t, r.Round(o))
	assert.True(t, o.Price.Equal(d("10")), o.Price.String())
	assert.True(t, o.Qty.Equal(d("2")), o.Qty.String())
	q, err := r.MinQtyAt(d("100"))
	require.NoError(t, err)
	assert.True(t, q.Equal(d("1")), "the least valid quantity is on the step: %s", q)
	r.MinNotional = d("250")
	q, err = r.MinQtyAt(d("100"))
	require.NoError(t, err)
	assert.True(t, q.Equal(d("3")), "%s", q)
	require.NoError(t, r.Check(&schema.OrderRequest{Symbol: "X-Y", Side: schema.SideBuy, Type: l, Price: d("100"), Qty: q}))
}

// TestAdv5BinanceOrderTypesOfTheSymbol: exchangeInfo lists, per symbol,
// the orderTypes it takes and whether quoteOrderQtyMarketAllowed; an order
// of another type, or by quote amount where that is not allowed, is
// refused by Binance (-2010 "Stop loss orders are not supported for this
// symbol.", "Quote order qty market orders are not support for this
// symbol.": Binance "Error codes"). They are refused here first; a
// post-only limit order is a LIMIT_MAKER. Derivatives' orderTypes
// (STOP_MARKET, TAKE_PROFIT as a limit) are not spot's and not read.
func TestAdv5BinanceOrderTypesOfTheSymbol(t *testing.T) {
	const info = `{"symbols":[
{"symbol":"BTCUSDT","baseAsset":"BTC","quoteAsset":"USDT","orderTypes":["LIMIT","MARKET","STOP_LOSS_LIMIT"],"quoteOrderQtyMarketAllowed":false,"filters":[]},
{"symbol":"ETHUSDT","baseAsset":"ETH","quoteAsset":"USDT","orderTypes":["LIMIT","LIMIT_MAKER","MARKET","STOP_LOSS","STOP_LOSS_LIMIT","TAKE_PROFIT","TAKE_PROFIT_LIMIT","SOMETHING_NEW"],"quoteOrderQtyMarketAllowed":true,"filters":[]},
{"symbol":"XRPUSDT","baseAsset":"XRP","quoteAsset":"USDT","filters":[]},
{"symbol":"BTCUSDT","pair":"BTCUSDT","contractType":"PERPETUAL","baseAsset":"BTC","quoteAsset":"USDT","orderTypes":["LIMIT","MARKET","STOP","TAKE_PROFIT"],"filters":[]}]}`
	ins, err := normalize.ParseBinanceExchangeInfo([]byte(info))
	require.NoError(t, err)
	d := schema.MustParseDecimal
	stop := func(typ schema.OrderType, price string) *schema.OrderRequest {
		o := &schema.OrderRequest{Symbol: "X-Y", Side: schema.SideSell, Type: typ, Qty: d("1"), StopPrice: d("90")}
		if price != "" {
			o.Price = d(price)
		}
		return o
	}
	limit := &schema.OrderRequest{Symbol: "X-Y", Side: schema.SideBuy, Type: schema.OrderTypeLimit, Price: d("100"), Qty: d("1")}
	postOnly := *limit
	postOnly.PostOnly = true
	byQuote := &schema.OrderRequest{Symbol: "X-Y", Side: schema.SideBuy, Type: schema.OrderTypeMarket, QuoteQty: d("10")}
	for _, tc := range []struct {
		name  string
		sym   int
		o     *schema.OrderRequest
		field string // "" accepted
	}{
		{"limit", 0, limit, ""},
		{"stop-limit", 0, stop(schema.OrderTypeStopLossLimit, "89"), ""},
		{"stop-market not listed", 0, stop(schema.OrderTypeStopLoss, ""), "Type"},
		{"take-profit-limit not listed", 0, stop(schema.OrderTypeTakeProfitLimit, "91"), "Type"},
		{"post-only is LIMIT_MAKER, not listed", 0, &postOnly, "Type"},
		{"by quote not allowed", 0, byQuote, "QuoteQty"},
		{"every type listed", 1, stop(schema.OrderTypeTakeProfit, ""), ""},
		{"post-only listed", 1, &postOnly, ""},
		{"by quote allowed", 1, byQuote, ""},
		{"no list: not known, all pass", 2, stop(schema.OrderTypeStopLoss, ""), ""},
		{"derivatives' list not read", 3, stop(schema.OrderTypeStopLoss, ""), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.o.Validate())
			err := ins[tc.sym].Rules.Check(tc.o)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var re *normalize.RuleError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.field, re.Field)
			assert.Equal(t, "not offered", re.Rule)
			assert.Contains(t, re.Error(), "takes no order of this "+tc.field)
		})
	}
}
