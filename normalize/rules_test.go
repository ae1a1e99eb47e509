package normalize_test

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// exchangeInfo is a Binance spot exchangeInfo entry as the venue documents
// it ("Exchange information" and "Filters"), with the filters a symbol
// carries today: PRICE_FILTER, LOT_SIZE, ICEBERG_PARTS, MARKET_LOT_SIZE,
// TRAILING_DELTA, PERCENT_PRICE_BY_SIDE, NOTIONAL, MAX_NUM_ORDERS; and one
// symbol with the older MIN_NOTIONAL.
const exchangeInfo = `{"timezone":"UTC","serverTime":1700000000000,"rateLimits":[],"exchangeFilters":[],"symbols":[
{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","baseAssetPrecision":8,"quoteAsset":"USDT","quotePrecision":8,"orderTypes":["LIMIT","LIMIT_MAKER","MARKET"],
 "filters":[
  {"filterType":"PRICE_FILTER","minPrice":"0.01000000","maxPrice":"1000000.00000000","tickSize":"0.01000000"},
  {"filterType":"LOT_SIZE","minQty":"0.00001000","maxQty":"9000.00000000","stepSize":"0.00001000"},
  {"filterType":"ICEBERG_PARTS","limit":10},
  {"filterType":"MARKET_LOT_SIZE","minQty":"0.00000000","maxQty":"83.59378185","stepSize":"0.00000000"},
  {"filterType":"TRAILING_DELTA","minTrailingAboveDelta":10,"maxTrailingAboveDelta":2000,"minTrailingBelowDelta":10,"maxTrailingBelowDelta":2000},
  {"filterType":"PERCENT_PRICE_BY_SIDE","bidMultiplierUp":"5","bidMultiplierDown":"0.2","askMultiplierUp":"5","askMultiplierDown":"0.2","avgPriceMins":5},
  {"filterType":"NOTIONAL","minNotional":"5.00000000","applyMinToMarket":true,"maxNotional":"9000000.00000000","applyMaxToMarket":false,"avgPriceMins":5},
  {"filterType":"MAX_NUM_ORDERS","maxNumOrders":200}]},
{"symbol":"OLDBNB","status":"TRADING","baseAsset":"OLD","quoteAsset":"BNB",
 "filters":[{"filterType":"MIN_NOTIONAL","minNotional":"0.00100000","applyToMarket":true,"avgPriceMins":5},
  {"filterType":"PRICE_FILTER","minPrice":"0.00000000","maxPrice":"0.00000000","tickSize":"0.00000100"}]}]}`

func TestParseBinanceExchangeInfoRules(t *testing.T) {
	ins, err := normalize.ParseBinanceExchangeInfo([]byte(exchangeInfo))
	require.NoError(t, err)
	require.Len(t, ins, 2)
	d := schema.MustParseDecimal
	assert.Equal(t, normalize.InstrumentRules{
		TickSize: d("0.01000000"), MinPrice: d("0.01000000"), MaxPrice: d("1000000.00000000"),
		StepSize: d("0.00001000"), MinQty: d("0.00001000"), MaxQty: d("9000.00000000"),
		MinNotional: d("5.00000000"), MaxNotional: d("9000000.00000000"),
		MarketMinQty: d("0.00000000"), MarketMaxQty: d("83.59378185"), MarketStepSize: d("0.00000000"),
		MarketMinNotional: d("5.00000000"), // applyMinToMarket; not the max (applyMaxToMarket false)
		QuoteStep:         d("0.00000001"), // quotePrecision 8
		OrderTypes:        1<<schema.OrderTypeLimit | 1<<schema.OrderTypeLimitMaker | 1<<schema.OrderTypeMarket,
		Trading:           normalize.TradingOpen, // status TRADING
		BidMultiplierUp:   d("5"), BidMultiplierDown: d("0.2"), AskMultiplierUp: d("5"), AskMultiplierDown: d("0.2"), AvgPriceMins: 5,
		MaxNumOrders: 200,
	}, ins[0].Rules)
	assert.Equal(t, normalize.InstrumentRules{TickSize: d("0.00000100"), MinPrice: d("0.00000000"), MaxPrice: d("0.00000000"),
		MinNotional: d("0.00100000"), MarketMinNotional: d("0.00100000"), Trading: normalize.TradingOpen}, ins[1].Rules)

	_, err = normalize.ParseBinanceExchangeInfo([]byte(`{"symbols":[{"symbol":"X","filters":[{"filterType":"LOT_SIZE","stepSize":"0.0x1"}]}]}`))
	var perr *normalize.ParseError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, "stepSize", perr.Field)
	_, err = normalize.ParseBinanceExchangeInfo([]byte(`{"symbols":[{"symbol":"X","filters":[{"filterType":"NOTIONAL","minNotional":"-5"}]}]}`))
	assert.ErrorIs(t, err, normalize.ErrNegative)
}

func btcRules(t *testing.T) normalize.InstrumentRules {
	ins, err := normalize.ParseBinanceExchangeInfo([]byte(exchangeInfo))
	require.NoError(t, err)
	return ins[0].Rules
}

func TestInstrumentRulesCheck(t *testing.T) {
	r := btcRules(t)
	d := schema.MustParseDecimal
	order := func(typ schema.OrderType, side schema.Side, price, qty string) *schema.OrderRequest {
		o := &schema.OrderRequest{Symbol: "BTC-USDT", Type: typ, Side: side, Qty: d(qty)}
		if price != "" {
			o.Price = d(price)
		}
		return o
	}
	for _, tc := range []struct {
		name        string
		o           *schema.OrderRequest
		field, rule string
	}{
		{"on every rule", order(schema.OrderTypeLimit, schema.SideBuy, "67000.01", "0.00100"), "", ""},
		{"off the tick", order(schema.OrderTypeLimit, schema.SideBuy, "67000.005", "0.001"), "Price", "tick size"},
		{"under the min price", order(schema.OrderTypeLimit, schema.SideBuy, "0.001", "1"), "Price", "min"},
		{"over the max price", order(schema.OrderTypeLimit, schema.SideSell, "1000000.01", "0.001"), "Price", "max"},
		{"off the step", order(schema.OrderTypeLimit, schema.SideBuy, "67000", "0.000015"), "Qty", "step size"},
		{"under the min qty", order(schema.OrderTypeLimit, schema.SideBuy, "67000", "0.000001"), "Qty", "min"},
		{"over the max qty", order(schema.OrderTypeLimit, schema.SideBuy, "1", "9000.00001"), "Qty", "max"},
		{"under the min notional", order(schema.OrderTypeLimit, schema.SideBuy, "67000", "0.00007"), "Notional", "min"},
		{"at the min notional", order(schema.OrderTypeLimit, schema.SideBuy, "50000", "0.0001"), "", ""},
		{"over the max notional", order(schema.OrderTypeLimit, schema.SideBuy, "999999", "9000"), "Notional", "max"},
		{"a market order: no notional", order(schema.OrderTypeMarket, schema.SideBuy, "", "0.00001"), "", ""},
		{"a market order off the step", order(schema.OrderTypeMarket, schema.SideSell, "", "0.000011"), "Qty", "step size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Check(tc.o)
			if tc.field == "" {
				assert.NoError(t, err)
				return
			}
			var rerr *normalize.RuleError
			require.ErrorAs(t, err, &rerr)
			assert.Equal(t, tc.field, rerr.Field)
			assert.Equal(t, tc.rule, rerr.Rule)
			assert.Contains(t, err.Error(), "BTC-USDT")
		})
	}
	cancel := &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USDT", Price: d("0.0000001")}
	assert.NoError(t, r.Check(cancel), "a cancel is not checked")
	var none normalize.InstrumentRules
	assert.NoError(t, none.Check(order(schema.OrderTypeLimit, schema.SideBuy, "0.123456789", "0.000000001")), "no rules, no bounds")
}

// TestInstrumentRulesRound: rounding never makes an order more aggressive
// or larger, and a rounded order passes Check.
func TestInstrumentRulesRound(t *testing.T) {
	r := btcRules(t)
	d := schema.MustParseDecimal
	buy := &schema.OrderRequest{Symbol: "BTC-USDT", Type: schema.OrderTypeLimit, Side: schema.SideBuy, Price: d("67000.019"), Qty: d("0.0012345")}
	require.NoError(t, r.Round(buy))
	assert.Equal(t, "67000.01000000", buy.Price.String(), "a buy rounds its price down")
	assert.Equal(t, "0.00123000", buy.Qty.String(), "quantities round down")
	assert.NoError(t, r.Check(buy))
	sell := &schema.OrderRequest{Symbol: "BTC-USDT", Type: schema.OrderTypeLimit, Side: schema.SideSell, Price: d("67000.011"), Qty: d("0.5")}
	require.NoError(t, r.Round(sell))
	assert.Equal(t, "67000.02000000", sell.Price.String(), "a sell rounds its price up")
	assert.Equal(t, "0.50000000", sell.Qty.String())
}

// TestMinQtyAt holds MinQtyAt against math/big: the least multiple of the
// step (from MinQty) whose notional at the price is at least MinNotional.
func TestMinQtyAt(t *testing.T) {
	r := btcRules(t)
	rng := rand.New(rand.NewPCG(1, 2))
	step := new(big.Rat).SetFrac64(1, 100_000)
	minN := big.NewRat(5, 1)
	for range 2000 {
		cents := 1 + rng.Int64N(100_000_000) // 0.01 … 1,000,000.00
		price := schema.NewDecimal(cents, 2)
		got, err := r.MinQtyAt(price)
		require.NoError(t, err)
		// want = max(minQty, ceil(minN/price/step)·step), minQty = step.
		q := new(big.Rat).Quo(minN, big.NewRat(cents, 100))
		q.Quo(q, step)
		n := new(big.Int).Quo(q.Num(), q.Denom())
		if new(big.Rat).SetInt(n).Cmp(q) < 0 {
			n.Add(n, big.NewInt(1))
		}
		if n.Sign() < 1 {
			n.SetInt64(1)
		}
		want := new(big.Rat).Mul(new(big.Rat).SetInt(n), step)
		gotR, ok := new(big.Rat).SetString(got.String())
		require.True(t, ok)
		require.Zero(t, want.Cmp(gotR), "price %s: got %s, want %s", price, got, want.FloatString(8))
		o := &schema.OrderRequest{Symbol: "BTC-USDT", Type: schema.OrderTypeLimit, Side: schema.SideBuy, Price: price, Qty: got}
		if err := r.Check(o); err != nil {
			var rerr *normalize.RuleError
			require.True(t, errors.As(err, &rerr) && rerr.Field == "Qty" && rerr.Rule == "max", "price %s qty %s: %v", price, got, err)
		}
	}
	_, err := r.MinQtyAt(schema.Decimal{})
	assert.ErrorIs(t, err, normalize.ErrBadValue)
}

// FuzzParseBinanceExchangeInfo: any input gives instruments or an error,
// never a panic, and checking or rounding an order against any parsed
// rules never panics either.
func FuzzParseBinanceExchangeInfo(f *testing.F) {
	f.Add([]byte(exchangeInfo))
	f.Add([]byte(`{"symbols":[{"symbol":"X","filters":[{"filterType":"LOT_SIZE","stepSize":"0.0x1"}]}]}`))
	f.Add([]byte(`{"symbols":[{"symbol":"X","filters":[{"filterType":"PRICE_FILTER","tickSize":"99999999999999999999"}]}]}`))
	f.Add([]byte(`{"symbols":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ins, err := normalize.ParseBinanceExchangeInfo(data)
		if err != nil {
			return
		}
		d := schema.MustParseDecimal
		for _, in := range ins {
			o := &schema.OrderRequest{Symbol: "A-B", Type: schema.OrderTypeLimit, Side: schema.SideSell, Price: d("123.456789"), Qty: d("0.000123")}
			_ = in.Rules.Check(o)
			_ = in.Rules.Round(o)
			_, _ = in.Rules.MinQtyAt(o.Price)
		}
	})
}

// TestInstrumentRulesNotionalBeyondDecimal: a price and a quantity with
// many decimals each have a product of more digits than a Decimal holds
// (1234.56789012 × 12345.6789 = 15241578.751672002468, 20 significant
// digits). The notional is still checked, exactly, not refused as an
// overflow.
func TestInstrumentRulesNotionalBeyondDecimal(t *testing.T) {
	d := schema.MustParseDecimal
	o := &schema.OrderRequest{Symbol: "X-Y", Type: schema.OrderTypeLimit, Side: schema.SideBuy,
		Price: d("1234.56789012"), Qty: d("12345.67890000")}
	_, err := o.Price.Mul(o.Qty)
	require.Error(t, err, "the product must not fit a Decimal, or this test proves nothing")

	ok := normalize.InstrumentRules{MinNotional: d("5"), MaxNotional: d("20000000")}
	assert.NoError(t, ok.Check(o))

	for _, tc := range []struct {
		rules normalize.InstrumentRules
		rule  string
	}{
		{normalize.InstrumentRules{MinNotional: d("15241578.75167201")}, "min"}, // just above the exact product
		{normalize.InstrumentRules{MaxNotional: d("15241578.75167200")}, "max"}, // just below it
	} {
		var rerr *normalize.RuleError
		require.ErrorAs(t, tc.rules.Check(o), &rerr, tc.rule)
		assert.Equal(t, "Notional", rerr.Field)
		assert.Equal(t, tc.rule, rerr.Rule)
		assert.Equal(t, "15241578.75167200247", rerr.Value.String(), "the product, rounded to what fits")
	}
	at := normalize.InstrumentRules{MinNotional: d("15241578.75167200"), MaxNotional: d("15241578.75167201")}
	assert.NoError(t, at.Check(o), "between the two bounds")
}
