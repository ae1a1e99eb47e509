package normalize

import (
	"errors"
	"testing"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

func krakenOrder(mod func(o *schema.OrderRequest)) *schema.OrderRequest {
	o := &schema.OrderRequest{Symbol: "BTC-USD", Side: schema.SideBuy, Type: schema.OrderTypeLimit, TimeInForce: schema.TIFGTC,
		Price: schema.MustParseDecimal("28440.10"), Qty: schema.MustParseDecimal("1.20")}
	if mod != nil {
		mod(o)
	}
	return o
}

// TestKrakenOrderRequests: each order shape as Kraken's add_order and
// cancel_order take it (Kraken "Spot WebSocket v2 → add_order",
// "cancel_order"): numbers with the request's digits, the token in params,
// req_id the request id.
func TestKrakenOrderRequests(t *testing.T) {
	enc := NewKrakenOrders(nil)
	for _, c := range []struct {
		name string
		o    *schema.OrderRequest
		want string
	}{
		{"limit gtc", krakenOrder(func(o *schema.OrderRequest) { o.ClientOrderID = schema.MustID("bot-1") }),
			`{"method":"add_order","params":{"order_type":"limit","side":"buy","order_qty":1.20,"symbol":"BTC/USD","limit_price":28440.10,"time_in_force":"gtc","cl_ord_id":"bot-1","token":"tok"},"req_id":42}`},
		{"limit no tif, sell", krakenOrder(func(o *schema.OrderRequest) { o.Side, o.TimeInForce = schema.SideSell, schema.TIFUnknown }),
			`{"method":"add_order","params":{"order_type":"limit","side":"sell","order_qty":1.20,"symbol":"BTC/USD","limit_price":28440.10,"time_in_force":"gtc","token":"tok"},"req_id":42}`},
		{"limit ioc", krakenOrder(func(o *schema.OrderRequest) { o.TimeInForce = schema.TIFIOC }),
			`{"method":"add_order","params":{"order_type":"limit","side":"buy","order_qty":1.20,"symbol":"BTC/USD","limit_price":28440.10,"time_in_force":"ioc","token":"tok"},"req_id":42}`},
		{"post only", krakenOrder(func(o *schema.OrderRequest) { o.PostOnly = true }),
			`{"method":"add_order","params":{"order_type":"limit","side":"buy","order_qty":1.20,"symbol":"BTC/USD","limit_price":28440.10,"time_in_force":"gtc","post_only":true,"token":"tok"},"req_id":42}`},
		{"limit maker", krakenOrder(func(o *schema.OrderRequest) { o.Type, o.TimeInForce = schema.OrderTypeLimitMaker, schema.TIFUnknown }),
			`{"method":"add_order","params":{"order_type":"limit","side":"buy","order_qty":1.20,"symbol":"BTC/USD","limit_price":28440.10,"time_in_force":"gtc","post_only":true,"token":"tok"},"req_id":42}`},
		{"market", krakenOrder(func(o *schema.OrderRequest) {
			o.Type, o.TimeInForce, o.Price, o.Qty = schema.OrderTypeMarket, schema.TIFIOC, schema.Decimal{}, schema.MustParseDecimal("0.5")
		}),
			`{"method":"add_order","params":{"order_type":"market","side":"buy","order_qty":0.5,"symbol":"BTC/USD","token":"tok"},"req_id":42}`},
		{"market buy by quote", krakenOrder(func(o *schema.OrderRequest) {
			o.Type, o.TimeInForce, o.Price, o.Qty, o.QuoteQty = schema.OrderTypeMarket, schema.TIFUnknown, schema.Decimal{}, schema.Decimal{}, schema.MustParseDecimal("100")
		}),
			`{"method":"add_order","params":{"order_type":"market","side":"buy","cash_order_qty":100,"symbol":"BTC/USD","token":"tok"},"req_id":42}`},
		{"stop loss", krakenOrder(func(o *schema.OrderRequest) {
			o.Type, o.TimeInForce, o.Price, o.StopPrice, o.Side = schema.OrderTypeStopLoss, schema.TIFUnknown, schema.Decimal{}, schema.MustParseDecimal("25000"), schema.SideSell
		}),
			`{"method":"add_order","params":{"order_type":"stop-loss","side":"sell","order_qty":1.20,"symbol":"BTC/USD","triggers":{"reference":"last","price":25000,"price_type":"static"},"token":"tok"},"req_id":42}`},
		{"stop loss limit", krakenOrder(func(o *schema.OrderRequest) {
			o.Type, o.StopPrice, o.Price = schema.OrderTypeStopLossLimit, schema.MustParseDecimal("25000"), schema.MustParseDecimal("24900.5")
		}),
			`{"method":"add_order","params":{"order_type":"stop-loss-limit","side":"buy","order_qty":1.20,"symbol":"BTC/USD","limit_price":24900.5,"triggers":{"reference":"last","price":25000,"price_type":"static"},"token":"tok"},"req_id":42}`},
		{"take profit limit ioc", krakenOrder(func(o *schema.OrderRequest) {
			o.Type, o.TimeInForce, o.StopPrice = schema.OrderTypeTakeProfitLimit, schema.TIFIOC, schema.MustParseDecimal("30000")
		}),
			`{"method":"add_order","params":{"order_type":"take-profit-limit","side":"buy","order_qty":1.20,"symbol":"BTC/USD","limit_price":28440.10,"time_in_force":"ioc","triggers":{"reference":"last","price":30000,"price_type":"static"},"token":"tok"},"req_id":42}`},
		{"take profit", krakenOrder(func(o *schema.OrderRequest) {
			o.Type, o.TimeInForce, o.Price, o.StopPrice = schema.OrderTypeTakeProfit, schema.TIFUnknown, schema.Decimal{}, schema.MustParseDecimal("30000")
		}),
			`{"method":"add_order","params":{"order_type":"take-profit","side":"buy","order_qty":1.20,"symbol":"BTC/USD","triggers":{"reference":"last","price":30000,"price_type":"static"},"token":"tok"},"req_id":42}`},
		{"long uuid", krakenOrder(func(o *schema.OrderRequest) { o.ClientOrderID = schema.MustID("6d1b345e-2821-40e2-ad83-4ecb18a06876") }),
			`{"method":"add_order","params":{"order_type":"limit","side":"buy","order_qty":1.20,"symbol":"BTC/USD","limit_price":28440.10,"time_in_force":"gtc","cl_ord_id":"6d1b345e-2821-40e2-ad83-4ecb18a06876","token":"tok"},"req_id":42}`},
		{"short uuid", krakenOrder(func(o *schema.OrderRequest) { o.ClientOrderID = schema.MustID("da8e4ad59b78481c93e589746b0cf91f") }),
			`{"method":"add_order","params":{"order_type":"limit","side":"buy","order_qty":1.20,"symbol":"BTC/USD","limit_price":28440.10,"time_in_force":"gtc","cl_ord_id":"da8e4ad59b78481c93e589746b0cf91f","token":"tok"},"req_id":42}`},
		{"cancel by order id", &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USD", VenueOrderID: schema.MustID("OS7FXJ-NTHBU-52BCRY"), OrigClientOrderID: schema.MustID("bot-1")},
			`{"method":"cancel_order","params":{"order_id":["OS7FXJ-NTHBU-52BCRY"],"token":"tok"},"req_id":42}`},
		{"cancel by client id", &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USD", OrigClientOrderID: schema.MustID("bot-1")},
			`{"method":"cancel_order","params":{"cl_ord_id":["bot-1"],"token":"tok"},"req_id":42}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, enc.Check(c.o))
			got, err := enc.AppendRequest([]byte("x"), 42, c.o, "tok")
			require.NoError(t, err)
			assert.Equal(t, "x"+c.want, string(got))
			var m map[string]any
			require.NoError(t, json.Unmarshal(got[1:], &m), "valid JSON")
		})
	}
}

// TestKrakenOrderRequestsRefused: what add_order cannot express, ids
// outside Kraken's forms and bad tokens fail before anything is written.
func TestKrakenOrderRequestsRefused(t *testing.T) {
	enc := NewKrakenOrders(&KrakenOrderOptions{Symbols: NewSymbols(KrakenSymbolRules())})
	// Each case: what add_order or cancel_order cannot take, and the error.
	for _, c := range []struct {
		name  string
		o     *schema.OrderRequest
		token string
		err   error
	}{
		{"fok", krakenOrder(func(o *schema.OrderRequest) { o.TimeInForce = schema.TIFFOK }), "tok", ErrUnsupported},
		{"gtx", krakenOrder(func(o *schema.OrderRequest) { o.TimeInForce = schema.TIFGTX }), "tok", ErrUnsupported},
		{"reduce only", krakenOrder(func(o *schema.OrderRequest) { o.ReduceOnly = true }), "tok", ErrUnsupported},
		{"post-only ioc", krakenOrder(func(o *schema.OrderRequest) { o.PostOnly, o.TimeInForce = true, schema.TIFIOC }), "tok", ErrUnsupported},
		{"post-only stop", krakenOrder(func(o *schema.OrderRequest) {
			o.Type, o.StopPrice, o.PostOnly = schema.OrderTypeStopLossLimit, schema.MustParseDecimal("1"), true
		}), "tok", ErrUnsupported},
		{"market sell by quote", krakenOrder(func(o *schema.OrderRequest) {
			o.Type, o.Side, o.Price, o.Qty, o.QuoteQty = schema.OrderTypeMarket, schema.SideSell, schema.Decimal{}, schema.Decimal{}, schema.MustParseDecimal("100")
		}), "tok", ErrUnsupported},
		{"free text too long", krakenOrder(func(o *schema.OrderRequest) { o.ClientOrderID = schema.MustID("nineteen-characters") }), "tok", ErrBadValue},
		{"free text with space", krakenOrder(func(o *schema.OrderRequest) { o.ClientOrderID = schema.MustID("a b") }), "tok", ErrBadValue},
		{"bad uuid", krakenOrder(func(o *schema.OrderRequest) { o.ClientOrderID = schema.MustID("6d1b345e-2821-40e2-ad83-4ecb18a0687g") }), "tok", ErrBadValue},
		{"cancel bad order id", &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USD", VenueOrderID: schema.MustID(`O"X`)}, "tok", ErrBadValue},
		{"cancel bad client id", &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USD", OrigClientOrderID: schema.MustID("much-too-long-free-text")}, "tok", ErrBadValue},
		{"unknown symbol", krakenOrder(func(o *schema.OrderRequest) { o.Symbol = "BTC" }), "tok", ErrUnknownSymbol},
		{"empty token", krakenOrder(nil), "", ErrBadValue},
		{"token breaking out", krakenOrder(nil), `t"k`, ErrBadValue},
	} {
		t.Run(c.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := enc.AppendRequest(dst, 1, c.o, c.token)
			require.ErrorIs(t, err, c.err)
			assert.Equal(t, "keep", string(got))
			if c.token != "tok" {
				return
			}
			require.ErrorIs(t, enc.Check(c.o), c.err, "Check says the same")
		})
	}
	// A registry that learnt v1's names (AssetPairs' wsname XBT/USD) still
	// gives v2's pair.
	syms := NewSymbols(KrakenSymbolRules())
	require.NoError(t, syms.Load([]Instrument{{Symbol: "XBT/USD", Base: "XBT", Quote: "USD"}}))
	got, err := NewKrakenOrders(&KrakenOrderOptions{Symbols: syms}).AppendRequest(nil, 1, krakenOrder(nil), "tok")
	require.NoError(t, err)
	assert.Contains(t, string(got), `"symbol":"BTC/USD"`)

	_, err = enc.AppendRequest(nil, 1, &schema.OrderRequest{Symbol: "BTC-USD"}, "tok")
	var ve *schema.ValidationError
	require.ErrorAs(t, err, &ve, "an invalid request is o's validation error")
}

// TestKrakenOrderRefusalMessage: a refusal always has a message, Kraken's
// error string or, without one, a word saying so (the edges of the
// reader are in TestOrderAnswersEdges).
func TestKrakenOrderRefusalMessage(t *testing.T) {
	for data, msg := range map[string]string{
		`{"method":"add_order","req_id":6,"success":false}`:                                          "refused without an error message",
		`{"method":"add_order","req_id":6,"success":false,"error":"EGeneral:Invalid arguments"}`:     "EGeneral:Invalid arguments",
		`{"method":"cancel_order","req_id":6,"success":false,"error":null,"result":{"order_id":""}}`: "refused without an error message",
	} {
		var a OrderAnswer
		ok, err := readAnswer("kraken", []byte(data), &a)
		require.NoError(t, err)
		require.True(t, ok)
		assert.False(t, a.Accepted)
		assert.Equal(t, msg, a.Msg)
		assert.Zero(t, a.Code, "Kraken's errors carry no number")
	}
}

// TestKrakenOrderAnswersNoAlloc: reading an accepted answer allocates
// nothing.
func TestKrakenOrderAnswersNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, file := range []string{"kraken_add_order_ack.json", "kraken_add_order_cl_ord_id_ack.json", "kraken_cancel_order_ack.json"} {
		data := orderFixture(t, file)
		var r KrakenAnswers
		var a OrderAnswer
		read := func() { _, _ = r.Read(data, &a) }
		read() // goccy compiles the type on first use
		assert.Zero(t, testing.AllocsPerRun(100, read), file)
		assert.True(t, a.Accepted, file)
	}
}

// FuzzKrakenOrderAnswer: whatever the frame, no panic; an error is a
// *ParseError of an order answer; an accepted answer has no code (see
// fuzzAnswers). Seeds: Kraken's documented examples
// (testdata/orders/kraken_*.json).
func FuzzKrakenOrderAnswer(f *testing.F) { fuzzAnswers(f, "kraken") }

// FuzzKrakenOrderRequest: any client id, price and quantity text either
// encodes to JSON that decodes, or fails with a typed error.
func FuzzKrakenOrderRequest(f *testing.F) {
	f.Add("bot-1", "28440.10", "1.20", uint8(schema.OrderTypeLimit), uint8(schema.TIFGTC), false)
	f.Add("6d1b345e-2821-40e2-ad83-4ecb18a06876", "0", "0.5", uint8(schema.OrderTypeMarket), uint8(schema.TIFIOC), false)
	f.Add(`a"b\c`, "1e3", "-1", uint8(schema.OrderTypeStopLossLimit), uint8(schema.TIFFOK), true)
	enc := NewKrakenOrders(nil)
	f.Fuzz(func(t *testing.T, cid, price, qty string, typ, tif uint8, postOnly bool) {
		o := &schema.OrderRequest{Symbol: "BTC-USD", Side: schema.SideBuy, Type: schema.OrderType(typ), TimeInForce: schema.TimeInForce(tif), PostOnly: postOnly}
		var err error
		if o.Price, err = schema.ParseDecimal(price); err != nil {
			return
		}
		if o.Qty, err = schema.ParseDecimal(qty); err != nil {
			return
		}
		if o.ClientOrderID.SetBytes([]byte(cid)) != nil {
			return
		}
		if o.Type >= schema.OrderTypeStopLoss {
			o.StopPrice = schema.MustParseDecimal("1")
		}
		got, err := enc.AppendRequest(nil, 1, o, "tok")
		if err != nil {
			var ve *schema.ValidationError
			if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrBadValue) && !errors.As(err, &ve) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		var m map[string]any
		if err := json.Unmarshal(got, &m); err != nil {
			t.Fatalf("%s is not JSON: %v", got, err)
		}
	})
}
