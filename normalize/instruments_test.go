package normalize

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// restVenue is a loopback HTTP server that answers each path with the
// body set for it (404 for others) and records the queries it was asked.
type restVenue struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string]string // "path?query" or "path" → body
	status  int
	asked   []string
}

func newRESTVenue(t *testing.T, answers map[string]string) *restVenue {
	v := &restVenue{answers: answers, status: http.StatusOK}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		defer v.mu.Unlock()
		v.asked = append(v.asked, r.URL.RequestURI())
		body, ok := v.answers[r.URL.RequestURI()]
		if !ok {
			body, ok = v.answers[r.URL.Path]
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(v.status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(v.Close)
	return v
}

func (v *restVenue) set(key, body string, status int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.answers[key], v.status = body, status
}

// OKX v5 "Get instruments": a spot pair and a linear swap, trimmed from
// the documented answer's shape.
const okxSpotInstruments = `{"code":"0","msg":"","data":[{"alias":"","baseCcy":"BTC","category":"1","ctMult":"","ctType":"","ctVal":"","ctValCcy":"","expTime":"","instFamily":"","instId":"BTC-USDT","instType":"SPOT","lever":"10","listTime":"1606468572000","lotSz":"0.00000001","maxIcebergSz":"9999999999.0000000000000000","maxLmtAmt":"1000000","maxLmtSz":"9999999999","maxMktAmt":"1000000","maxMktSz":"","maxStopSz":"","maxTriggerSz":"9999999999.0000000000000000","maxTwapSz":"9999999999.0000000000000000","minSz":"0.00001","optType":"","quoteCcy":"USDT","settleCcy":"","state":"live","stk":"","tickSz":"0.1","uly":""}]}`

const okxSwapInstruments = `{"code":"0","msg":"","data":[{"alias":"","baseCcy":"","category":"1","ctMult":"1","ctType":"linear","ctVal":"0.01","ctValCcy":"BTC","expTime":"","instFamily":"BTC-USDT","instId":"BTC-USDT-SWAP","instType":"SWAP","lever":"100","listTime":"1573557408000","lotSz":"0.01","maxLmtSz":"100000000","maxMktSz":"12000","minSz":"0.01","quoteCcy":"","settleCcy":"USDT","state":"live","tickSz":"0.1","uly":"BTC-USDT"}]}`

func TestFetchOKXInstruments(t *testing.T) {
	v := newRESTVenue(t, map[string]string{
		OKXInstruments + "?instType=SPOT": okxSpotInstruments,
		OKXInstruments + "?instType=SWAP": okxSwapInstruments,
	})
	ctx := context.Background()
	ins, err := FetchOKXInstruments(ctx, v.Client(), v.URL, "SPOT")
	require.NoError(t, err)
	require.Equal(t, []Instrument{{Symbol: "BTC-USDT", Base: "BTC", Quote: "USDT", Rules: InstrumentRules{
		TickSize: dec("0.1"), StepSize: dec("0.00000001"), MinQty: dec("0.00001"), MaxQty: dec("9999999999"), Trading: TradingOpen}}}, ins)

	swaps, err := FetchOKXInstruments(ctx, v.Client(), v.URL, "SWAP")
	require.NoError(t, err)
	require.Len(t, swaps, 1)
	require.Equal(t, "BTC", swaps[0].Base)
	require.Equal(t, "USDT", swaps[0].Quote)
	r := swaps[0].Rules
	requireDigits(t, "0.01", r.ContractSize, "ctVal: one contract is 0.01 BTC")
	requireDigits(t, "0.01", r.StepSize)
	syms := NewSymbols(OKXSymbolRules())
	require.NoError(t, syms.Load(swaps))
	sym, err := syms.Lookup([]byte("BTC-USDT-SWAP"))
	require.NoError(t, err)
	require.Equal(t, "BTC-USDT-PERP", sym)

	// A refusal in the body, a malformed answer, a bad value, an HTTP error.
	var re *RESTError
	v.set(OKXInstruments+"?instType=SPOT", `{"code":"51000","msg":"Parameter instType error","data":[]}`, http.StatusOK)
	_, err = FetchOKXInstruments(ctx, v.Client(), v.URL, "SPOT")
	require.ErrorAs(t, err, &re)
	require.Equal(t, int64(51000), re.Code)
	require.Equal(t, schema.VenueOKX, re.Venue)
	var pe *ParseError
	v.set(OKXInstruments+"?instType=SPOT", `{"code":"0","data":[{"instId":"BTC-USDT"`, http.StatusOK)
	_, err = FetchOKXInstruments(ctx, v.Client(), v.URL, "SPOT")
	require.ErrorAs(t, err, &pe)
	require.ErrorIs(t, err, ErrMalformed)
	v.set(OKXInstruments+"?instType=SPOT", `{"code":"0","data":[{"instId":"BTC-USDT","instType":"SPOT","baseCcy":"BTC","quoteCcy":"USDT","tickSz":"-0.1"}]}`, http.StatusOK)
	_, err = FetchOKXInstruments(ctx, v.Client(), v.URL, "SPOT")
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "tickSz", pe.Field)
	require.ErrorIs(t, err, ErrNegative)
	v.set(OKXInstruments+"?instType=SPOT", `{"code":"0","data":[{"instId":"BTC-USDT","instType":"SPOT","baseCcy":"BTC","quoteCcy":"USDT","lotSz":"0.0.1"}]}`, http.StatusOK)
	_, err = FetchOKXInstruments(ctx, v.Client(), v.URL, "SPOT")
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "lotSz", pe.Field)
	v.set(OKXInstruments+"?instType=SPOT", `{"code":"0","data":[{"instId":"BTC-USDT","instType":"SPOT"}]}`, http.StatusOK)
	_, err = FetchOKXInstruments(ctx, v.Client(), v.URL, "SPOT")
	require.ErrorIs(t, err, ErrMissingField)
	v.set(OKXInstruments+"?instType=SPOT", `{"msg":"Too Many Requests","code":"50011"}`, http.StatusTooManyRequests)
	_, err = FetchOKXInstruments(ctx, v.Client(), v.URL, "SPOT")
	require.ErrorAs(t, err, &re)
	require.Equal(t, int64(http.StatusTooManyRequests), re.Code)
}

// Bybit v5 "Get Instruments Info": the documented spot answer, and a
// linear answer on two pages (the cursor is sent as given, encoded once
// more as a query value, as Bybit's SDKs send it).
const bybitSpotInstruments = `{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[{"symbolId":9,"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT","innovation":"0","status":"Trading","marginTrading":"utaOnly","stTag":"0","lotSizeFilter":{"basePrecision":"0.000001","quotePrecision":"0.0000001","minOrderQty":"0.000011","maxOrderQty":"83","minOrderAmt":"5","maxOrderAmt":"8000000","maxLimitOrderQty":"83","maxMarketOrderQty":"41.5","postOnlyMaxLimitOrderSize":"60000"},"priceFilter":{"tickSize":"0.1"},"riskParameters":{"priceLimitRatioX":"0.005","priceLimitRatioY":"0.01"},"symbolType":""}]},"retExtInfo":{},"time":1760027412300}`

const bybitLinearPage1 = `{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"BTCUSDT","contractType":"LinearPerpetual","status":"Trading","baseCoin":"BTC","quoteCoin":"USDT","launchTime":"1585526400000","deliveryTime":"0","deliveryFeeRate":"","priceScale":"2","leverageFilter":{"minLeverage":"1","maxLeverage":"100.00","leverageStep":"0.01"},"priceFilter":{"minPrice":"0.10","maxPrice":"1999999.80","tickSize":"0.10"},"lotSizeFilter":{"maxOrderQty":"1190.000","minOrderQty":"0.001","qtyStep":"0.001","postOnlyMaxOrderQty":"1190.000","maxMktOrderQty":"500.000","minNotionalValue":"5"},"unifiedMarginTrade":true,"fundingInterval":480,"settleCoin":"USDT"}],"nextPageCursor":"first%3DBTCUSDT%26last%3DBTCUSDT"},"retExtInfo":{},"time":1735809771618}`

const bybitLinearPage2 = `{"retCode":0,"retMsg":"OK","result":{"category":"linear","list":[{"symbol":"BTCUSDT-27DEC24","contractType":"LinearFutures","status":"Trading","baseCoin":"BTC","quoteCoin":"USDT","deliveryTime":"1735286400000","priceFilter":{"minPrice":"0.50","maxPrice":"1999999.00","tickSize":"0.50"},"lotSizeFilter":{"maxOrderQty":"500.000","minOrderQty":"0.001","qtyStep":"0.001","minNotionalValue":"5"}}],"nextPageCursor":""},"retExtInfo":{},"time":1735809771618}`

func TestFetchBybitInstruments(t *testing.T) {
	v := newRESTVenue(t, map[string]string{
		BybitInstrumentsInfo + "?category=spot&limit=1000":                                                 bybitSpotInstruments,
		BybitInstrumentsInfo + "?category=linear&limit=1000":                                               bybitLinearPage1,
		BybitInstrumentsInfo + "?category=linear&cursor=first%253DBTCUSDT%2526last%253DBTCUSDT&limit=1000": bybitLinearPage2,
	})
	ctx := context.Background()
	spot, err := FetchBybitInstruments(ctx, v.Client(), v.URL, "spot")
	require.NoError(t, err)
	require.Equal(t, []Instrument{{Symbol: "BTCUSDT", Base: "BTC", Quote: "USDT", Rules: InstrumentRules{
		TickSize: dec("0.1"), StepSize: dec("0.000001"), MaxQty: dec("83"), MinNotional: dec("5"), MaxNotional: dec("8000000"),
		MarketMaxQty: dec("41.5"), MarketMinNotional: dec("5"), MarketMaxNotional: dec("8000000"), QuoteStep: dec("0.0000001"), Trading: TradingOpen}}}, spot,
		"spot's minOrderQty is deprecated and not checked by Bybit: MinQty stays unset")

	linear, err := FetchBybitInstruments(ctx, v.Client(), v.URL, "linear")
	require.NoError(t, err)
	require.Len(t, linear, 2, "both pages")
	require.Equal(t, Instrument{Symbol: "BTCUSDT", Base: "BTC", Quote: "USDT", Contract: "PERP", Rules: InstrumentRules{
		TickSize: dec("0.10"), MinPrice: dec("0.10"), MaxPrice: dec("1999999.80"), StepSize: dec("0.001"),
		MinQty: dec("0.001"), MaxQty: dec("1190.000"), MinNotional: dec("5"), MarketMaxQty: dec("500.000"), Trading: TradingOpen}}, linear[0])
	syms := NewSymbols(BybitSymbolRules())
	require.NoError(t, syms.Load(linear))
	for venue, canon := range map[string]string{"BTCUSDT": "BTC-USDT-PERP", "BTCUSDT-27DEC24": "BTC-USDT-27DEC24"} {
		got, err := syms.Lookup([]byte(venue))
		require.NoError(t, err)
		require.Equal(t, canon, got)
	}

	// The rules check an order: 0.0005 BTC is under the minimum quantity.
	o := &schema.OrderRequest{Symbol: "BTC-USDT-PERP", Side: schema.SideBuy, Type: schema.OrderTypeLimit, Price: dec("60000.00"), Qty: dec("0.0005")}
	var ruleErr *RuleError
	require.ErrorAs(t, linear[0].Rules.Check(o), &ruleErr)
	require.Equal(t, "Qty", ruleErr.Field)

	var re *RESTError
	v.set(BybitInstrumentsInfo+"?category=spot&limit=1000", `{"retCode":10001,"retMsg":"params error: category is invalid","result":{},"retExtInfo":{},"time":1}`, http.StatusOK)
	_, err = FetchBybitInstruments(ctx, v.Client(), v.URL, "spot")
	require.ErrorAs(t, err, &re)
	require.Equal(t, int64(10001), re.Code)
	require.Equal(t, "params error: category is invalid", re.Msg)
	for body, want := range map[string]error{
		`{"retMsg":"OK","result":{"list":[]}}`: ErrMissingField,
		`{"retCode":0,"result":{"list":[{"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT","priceFilter":{"tickSize":"x"}}]}}`: nil,
		`[1,2]`: ErrMalformed,
		`{"retCode":0,"result":{"list":[{"symbol":"BTCUSDT","baseCoin":"BTC"}]}}`: ErrMissingField,
	} {
		v.set(BybitInstrumentsInfo+"?category=spot&limit=1000", body, http.StatusOK)
		_, err = FetchBybitInstruments(ctx, v.Client(), v.URL, "spot")
		var pe *ParseError
		require.ErrorAs(t, err, &pe, body)
		if want != nil {
			require.ErrorIs(t, err, want, body)
		}
	}

	// A cursor that never ends is an error, not a loop.
	v.set(BybitInstrumentsInfo+"?category=option&limit=1000", `{"retCode":0,"result":{"list":[],"nextPageCursor":"a"}}`, http.StatusOK)
	v.set(BybitInstrumentsInfo+"?category=option&cursor=a&limit=1000", `{"retCode":0,"result":{"list":[],"nextPageCursor":"b"}}`, http.StatusOK)
	v.set(BybitInstrumentsInfo+"?category=option&cursor=b&limit=1000", `{"retCode":0,"result":{"list":[],"nextPageCursor":"a"}}`, http.StatusOK)
	_, err = FetchBybitInstruments(ctx, v.Client(), v.URL, "option")
	require.ErrorIs(t, err, ErrMalformed)
}

// Kraken "Get Tradable Asset Pairs", trimmed from the documented answer.
const krakenAssetPairs = `{"error":[],"result":{"XBTUSDT":{"altname":"XBTUSDT","wsname":"XBT/USDT","aclass_base":"currency","base":"XXBT","aclass_quote":"currency","quote":"USDT","lot":"unit","cost_decimals":5,"pair_decimals":1,"lot_decimals":8,"lot_multiplier":1,"leverage_buy":[2,3],"leverage_sell":[2,3],"fees":[[0,0.4],[10000,0.35]],"fees_maker":[[0,0.25],[10000,0.2]],"fee_volume_currency":"ZUSD","margin_call":80,"margin_stop":40,"ordermin":"0.00005","costmin":"0.5","tick_size":"0.1","status":"online","long_position_limit":80,"short_position_limit":80},"XETHZUSD":{"altname":"ETHUSD","wsname":"ETH/USD","base":"XETH","quote":"ZUSD","pair_decimals":2,"lot_decimals":8,"ordermin":"0.002","costmin":"0.5","status":"online"},"XBTUSD.d":{"altname":"XBTUSD.d","base":"XXBT","quote":"ZUSD"}}}`

func TestFetchKrakenInstruments(t *testing.T) {
	v := newRESTVenue(t, map[string]string{KrakenAssetPairs: krakenAssetPairs})
	ctx := context.Background()
	ins, err := FetchKrakenInstruments(ctx, v.Client(), v.URL)
	require.NoError(t, err)
	require.Equal(t, []Instrument{
		{Symbol: "BTC/USDT", Base: "BTC", Quote: "USDT", Rules: InstrumentRules{TickSize: dec("0.1"), StepSize: dec("0.00000001"), MinQty: dec("0.00005"), MinNotional: dec("0.5"), MarketMinNotional: dec("0.5"), QuoteStep: dec("0.00001"), Trading: TradingOpen}},
		{Symbol: "ETH/USD", Base: "ETH", Quote: "USD", Rules: InstrumentRules{TickSize: dec("0.01"), StepSize: dec("0.00000001"), MinQty: dec("0.002"), MinNotional: dec("0.5"), MarketMinNotional: dec("0.5"), Trading: TradingOpen}},
	}, ins, "sorted; the dark pool pair (no wsname) skipped; tick_size over pair_decimals")
	syms := NewSymbols(KrakenSymbolRules())
	require.NoError(t, syms.Load(ins))
	got, err := syms.Lookup([]byte("XBT/USDT"))
	require.NoError(t, err)
	require.Equal(t, "BTC-USDT", got)
	// WebSocket v2 refuses v1's wsname ("Currency pair not supported
	// XBT/USDT"): subscriptions and orders are made with v2's name.
	vs, err := syms.VenueSymbol("BTC-USDT")
	require.NoError(t, err)
	require.Equal(t, "BTC/USDT", vs)
	got, err = syms.Lookup([]byte("BTC/USDT"))
	require.NoError(t, err)
	require.Equal(t, "BTC-USDT", got)

	var re *RESTError
	v.set(KrakenAssetPairs, `{"error":["EQuery:Unknown asset pair"]}`, http.StatusOK)
	_, err = FetchKrakenInstruments(ctx, v.Client(), v.URL)
	require.ErrorAs(t, err, &re)
	require.Equal(t, "EQuery:Unknown asset pair", re.Msg)
	var pe *ParseError
	for body, field := range map[string]string{
		`{"error":[],"result":{"X":{"wsname":"XBTUSD"}}}`:                    "wsname",
		`{"error":[],"result":{"X":{"wsname":"XBT/USD","lot_decimals":40}}}`: "lot_decimals",
		`{"error":[],"result":{"X":{"wsname":"XBT/USD","ordermin":"-1"}}}`:   "ordermin",
		`{"error":[],"result":{"X":{"wsname":"XBT/USD","costmin":5}}}`:       "",
		`{"error":[],"result":`: "",
	} {
		v.set(KrakenAssetPairs, body, http.StatusOK)
		_, err = FetchKrakenInstruments(ctx, v.Client(), v.URL)
		require.ErrorAs(t, err, &pe, body)
		require.Equal(t, field, pe.Field, body)
	}
}

// Coinbase Advanced Trade "List Public Products" (trimmed) and Exchange
// "Get all known trading pairs".
const (
	coinbaseAdvancedProducts = `{"products":[{"product_id":"BTC-USD","price":"68925.98","base_increment":"0.00000001","quote_increment":"0.01","quote_min_size":"1","quote_max_size":"150000000","base_min_size":"0.00000001","base_max_size":"3400","base_name":"Bitcoin","quote_name":"US Dollar","status":"online","product_type":"SPOT","quote_currency_id":"USD","base_currency_id":"BTC","price_increment":"0.01","display_name":"BTC-USD","product_venue":"CBE"},` +
		`{"product_id":"BIP-20DEC30-CDE","price":"68000","base_increment":"1","quote_increment":"5","quote_min_size":"0","quote_max_size":"100000000","base_min_size":"1","base_max_size":"100000000","status":"online","product_type":"FUTURE","quote_currency_id":"USD","base_currency_id":"","price_increment":"5","future_product_details":{"venue":"cde","contract_code":"BIP","contract_expiry":"2030-12-20T16:00:00Z","contract_size":"0.01","contract_root_unit":"BTC","contract_expiry_type":"PERPETUAL"}}],"num_products":2}`
	coinbaseExchangeProducts = `[{"id":"BTC-USD","base_currency":"BTC","quote_currency":"USD","quote_increment":"0.01000000","base_increment":"0.00000001","display_name":"BTC/USD","min_market_funds":"1","margin_enabled":false,"post_only":false,"limit_only":false,"cancel_only":false,"status":"online","status_message":"","auction_mode":false}]`
)

func TestFetchCoinbaseInstruments(t *testing.T) {
	v := newRESTVenue(t, map[string]string{CoinbaseAdvancedProducts: coinbaseAdvancedProducts, CoinbaseExchangeProducts: coinbaseExchangeProducts})
	ctx := context.Background()
	ins, err := FetchCoinbaseInstruments(ctx, v.Client(), v.URL, CoinbaseAdvancedProducts)
	require.NoError(t, err)
	require.Len(t, ins, 2)
	require.Equal(t, Instrument{Symbol: "BTC-USD", Base: "BTC", Quote: "USD", Rules: InstrumentRules{
		TickSize: dec("0.01"), StepSize: dec("0.00000001"), MinQty: dec("0.00000001"), MaxQty: dec("3400"),
		MinNotional: dec("1"), MaxNotional: dec("150000000"),
		MarketMinNotional: dec("1"), MarketMaxNotional: dec("150000000"), QuoteStep: dec("0.01"), Trading: TradingOpen}}, ins[0])
	require.Equal(t, "BTC", ins[1].Base)
	require.Equal(t, "PERP", ins[1].Contract)
	requireDigits(t, "0.01", ins[1].Rules.ContractSize)
	syms := NewSymbols(CoinbaseSymbolRules())
	require.NoError(t, syms.Load(ins))
	got, err := syms.Lookup([]byte("BIP-20DEC30-CDE"))
	require.NoError(t, err)
	require.Equal(t, "BTC-USD-PERP", got)

	ex, err := FetchCoinbaseInstruments(ctx, v.Client(), v.URL, CoinbaseExchangeProducts)
	require.NoError(t, err)
	require.Equal(t, []Instrument{{Symbol: "BTC-USD", Base: "BTC", Quote: "USD", Rules: InstrumentRules{
		TickSize: dec("0.01000000"), StepSize: dec("0.00000001"), MinNotional: dec("1"), MarketMinNotional: dec("1"),
		QuoteStep: dec("0.01000000"), Trading: TradingOpen}}}, ex)

	var re *RESTError
	v.set(CoinbaseAdvancedProducts, `{"error":"INTERNAL","message":"internal error"}`, http.StatusInternalServerError)
	_, err = FetchCoinbaseInstruments(ctx, v.Client(), v.URL, CoinbaseAdvancedProducts)
	require.ErrorAs(t, err, &re)
	require.Equal(t, int64(500), re.Code)
	var pe *ParseError
	for body, want := range map[string]error{
		`{"error":"x"}`: ErrMissingField,
		`{"products":[{"product_id":"BTC-USD","base_currency_id":"BTC","quote_currency_id":"USD","base_increment":"0.0.1"}]}`: nil,
		`[{"id":"BTC-USD","base_currency":"BTC","quote_currency":"USD","quote_increment":"-1"}]`:                              ErrNegative,
		`{"products":[`: ErrMalformed,
	} {
		v.set(CoinbaseAdvancedProducts, body, http.StatusOK)
		_, err = FetchCoinbaseInstruments(ctx, v.Client(), v.URL, CoinbaseAdvancedProducts)
		require.ErrorAs(t, err, &pe, body)
		if want != nil {
			require.ErrorIs(t, err, want, body)
		}
	}
}

// FuzzInstrumentParsers: whatever the answer, the parsers return
// instruments or a typed error, never panic.
func FuzzInstrumentParsers(f *testing.F) {
	for _, s := range []string{okxSpotInstruments, okxSwapInstruments, bybitSpotInstruments, bybitLinearPage1, krakenAssetPairs, coinbaseAdvancedProducts, coinbaseExchangeProducts} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func([]byte) ([]Instrument, error){ParseOKXInstruments, ParseBybitInstruments, ParseKrakenAssetPairs, ParseCoinbaseProducts} {
			ins, err := parse(data)
			if err != nil {
				var pe *ParseError
				var re *RESTError
				if !errAs(err, &pe) && !errAs(err, &re) {
					t.Fatalf("untyped error %v", err)
				}
				continue
			}
			for _, in := range ins {
				if in.Symbol == "" || in.Base == "" || in.Quote == "" {
					t.Fatalf("incomplete instrument %+v", in)
				}
			}
		}
	})
}
