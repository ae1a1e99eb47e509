package normalize_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// The answers as Coinbase Advanced Trade documents them ("Orders → Get
// Order", "List Orders", "List Fills"; an error body).
const (
	cbOrderAnswer = `{"order":{"order_id":"0000-000000-000000","product_id":"BTC-USD","user_id":"2222-000000-000000",` +
		`"order_configuration":{"limit_limit_gtc":{"base_size":"0.05","limit_price":"10000.00","post_only":true}},` +
		`"side":"BUY","client_order_id":"11111-00000-000000","status":"CANCELLED","time_in_force":"GOOD_UNTIL_CANCELLED",` +
		`"created_time":"2021-05-31T09:59:59.000Z","completion_percentage":"60","filled_size":"0.03","average_filled_price":"10000",` +
		`"fee":"","number_of_fills":"2","filled_value":"300","pending_cancel":false,"size_in_quote":false,"total_fees":"1.8",` +
		`"size_inclusive_of_fees":false,"total_value_after_fees":"301.8","trigger_status":"INVALID_ORDER_TYPE","order_type":"LIMIT",` +
		`"reject_reason":"","settled":true,"product_type":"SPOT","reject_message":"","cancel_message":"User requested cancel",` +
		`"order_placement_source":"RETAIL_ADVANCED","outstanding_hold_amount":"0","is_liquidation":false,` +
		`"last_fill_time":"2021-05-31T10:00:01.5Z","edit_history":[],"leverage":"","margin_type":"UNKNOWN_MARGIN_TYPE"}}`
	cbOrdersAnswer = `{"orders":[{"order_id":"0000-000000-000001","product_id":"BTC-USD","order_configuration":` +
		`{"market_market_ioc":{"quote_size":"10.00"}},"side":"BUY","client_order_id":"","status":"OPEN",` +
		`"time_in_force":"IMMEDIATE_OR_CANCEL","created_time":"2021-05-31T09:59:59Z","filled_size":"0.0001",` +
		`"average_filled_price":"50000","filled_value":"5","size_in_quote":true,"order_type":"MARKET","last_fill_time":null},` +
		`{"order_id":"0000-000000-000002","product_id":"BTC-USD","order_configuration":{"stop_limit_stop_limit_gtc":` +
		`{"base_size":"1","limit_price":"9000","stop_price":"9100","stop_direction":"STOP_DIRECTION_STOP_DOWN"}},"side":"SELL",` +
		`"status":"PENDING","time_in_force":"GOOD_UNTIL_CANCELLED","created_time":"2021-05-31T09:59:59Z","filled_size":"0",` +
		`"average_filled_price":"0","filled_value":"0","size_in_quote":false,"order_type":"STOP_LIMIT"}],` +
		`"sequence":"0","has_next":true,"cursor":"789100"}`
	cbFillsAnswer = `{"fills":[{"entry_id":"22222-2222222-22222222","trade_id":"1111-11111-111111","order_id":"0000-000000-000000",` +
		`"trade_time":"2021-05-31T09:59:59.123456Z","trade_type":"FILL","price":"10000.00","size":"0.001","commission":"1.25",` +
		`"product_id":"BTC-USD","sequence_timestamp":"2021-05-31T09:58:59.000Z","liquidity_indicator":"MAKER","size_in_quote":false,` +
		`"user_id":"3333-333333-3333333","side":"BUY","retail_portfolio_id":"4444-444444-4444444"},` +
		`{"entry_id":"22222-2222222-22222223","trade_id":"1111-11111-111112","order_id":"0000-000000-000000",` +
		`"trade_time":"2021-05-31T10:00:00Z","trade_type":"FILL","price":"21220.64","size":"0.0046830664333996","commission":"0.01",` +
		`"product_id":"BTC-USD","liquidity_indicator":"TAKER","size_in_quote":true,"side":"BUY"},` +
		`{"entry_id":"22222-2222222-22222224","trade_id":"1111-11111-111113","order_id":"0000-000000-000000",` +
		`"trade_time":"2021-05-31T10:00:01Z","trade_type":"REVERSAL","price":"20000","size":"0.001","commission":"0",` +
		`"product_id":"BTC-USD","liquidity_indicator":"TAKER","size_in_quote":false,"side":"BUY"}],"cursor":"789100"}`
	cbNotFound    = `{"error":"NOT_FOUND","code":5,"message":"order with this orderID was not found","error_details":"order with this orderID was not found"}`
	cbRateLimited = `{"error":"rate_limit_exceeded","message":"Too many requests"}`
)

func TestParseCoinbaseOrder(t *testing.T) {
	syms := normalize.NewSymbols(normalize.CoinbaseSymbolRules())
	os, err := normalize.ParseCoinbaseOrder([]byte(cbOrderAnswer), syms)
	require.NoError(t, err)
	require.Len(t, os, 1)
	o := os[0]
	assert.Equal(t, "BTC-USD", o.Symbol)
	assert.Equal(t, "0000-000000-000000", o.VenueOrderID.String())
	assert.Equal(t, "11111-00000-000000", o.ClientOrderID.String())
	assert.Equal(t, schema.StatusCanceled, o.Status)
	assert.Equal(t, schema.SideBuy, o.Side)
	assert.Equal(t, schema.OrderTypeLimitMaker, o.Type, "post_only")
	assert.Equal(t, schema.TIFGTC, o.TimeInForce)
	assert.Equal(t, "10000.00", o.Price.String())
	assert.Equal(t, "0.05", o.Qty.String())
	assert.Equal(t, "0.03", o.CumFillQty.String())
	assert.Equal(t, "0.00", o.RemainingQty.String(), "canceled: nothing open (FIX LeavesQty)")
	assert.Equal(t, "300", o.CumQuoteQty.String())
	assert.Equal(t, "10000", o.AvgPrice.String())
	assert.Equal(t, "User requested cancel", o.RejectReason)
	assert.Equal(t, time.Date(2021, 5, 31, 9, 59, 59, 0, time.UTC).UnixNano(), o.OrderCreated)
	assert.Equal(t, time.Date(2021, 5, 31, 10, 0, 1, 500_000_000, time.UTC).UnixNano(), o.TransactTime, "last_fill_time")
}

func TestParseCoinbaseOrders(t *testing.T) {
	syms := normalize.NewSymbols(normalize.CoinbaseSymbolRules())
	os, next, err := normalize.ParseCoinbaseOrders([]byte(cbOrdersAnswer), syms, nil)
	require.NoError(t, err)
	assert.Equal(t, "789100", next, "has_next: the cursor")
	require.Len(t, os, 2)
	m := os[0]
	assert.Equal(t, schema.StatusPartiallyFilled, m.Status, "OPEN with a fill")
	assert.Equal(t, schema.OrderTypeMarket, m.Type)
	assert.Equal(t, schema.TIFIOC, m.TimeInForce)
	assert.True(t, m.Qty.IsZero(), "sized in the quote currency: no base quantity")
	assert.True(t, m.ClientOrderID.IsZero())
	assert.Equal(t, m.OrderCreated, m.TransactTime, "no fill time: the creation")
	s := os[1]
	assert.Equal(t, schema.StatusPendingNew, s.Status)
	assert.Equal(t, schema.OrderTypeStopLossLimit, s.Type)
	assert.Equal(t, schema.SideSell, s.Side)
	assert.Equal(t, "9100", s.StopPrice.String())
	assert.Equal(t, "9000", s.Price.String())
	assert.Equal(t, "1", s.Qty.String())

	last, next, err := normalize.ParseCoinbaseOrders([]byte(strings.Replace(cbOrdersAnswer, `"has_next":true`, `"has_next":false`, 1)), syms, os[:0])
	require.NoError(t, err)
	assert.Len(t, last, 2)
	assert.Empty(t, next, "no next page: no cursor, whatever the answer names")
}

func TestParseCoinbaseFills(t *testing.T) {
	syms := normalize.NewSymbols(normalize.CoinbaseSymbolRules())
	fills, next, err := normalize.ParseCoinbaseFills([]byte(cbFillsAnswer), syms, nil)
	require.NoError(t, err)
	assert.Equal(t, "789100", next)
	require.Len(t, fills, 2, "a REVERSAL is no fill")
	f := fills[0]
	assert.Equal(t, "BTC-USD", f.Symbol)
	assert.Equal(t, "1111-11111-111111", f.TradeID.String())
	assert.Equal(t, "0000-000000-000000", f.OrderID.String())
	assert.Equal(t, "10000.00", f.Price.String())
	assert.Equal(t, "0.001", f.Qty.String())
	assert.Zero(t, f.QuoteQty.Cmp(schema.MustParseDecimal("10")), "%s", f.QuoteQty)
	assert.Equal(t, "1.25", f.Fee.String())
	assert.Equal(t, "USD", f.FeeAsset.String())
	assert.True(t, f.IsMaker)
	assert.Equal(t, time.Date(2021, 5, 31, 9, 59, 59, 123456000, time.UTC).UnixNano(), f.Time)
	q := fills[1]
	assert.Equal(t, "0.0046830664333996", q.Qty.String(), "size_in_quote (the order's sizing): the size is still the base quantity")
	assert.Equal(t, "99.3776668792568877", q.QuoteQty.String(), "price × size, rounded to what a Decimal holds")
	assert.False(t, q.IsMaker)
}

func TestParseCoinbaseQueryErrors(t *testing.T) {
	syms := normalize.NewSymbols(normalize.CoinbaseSymbolRules())
	order := func(fields string) string {
		return `{"order":{"order_id":"1","product_id":"BTC-USD","status":"OPEN","created_time":"2021-05-31T09:59:59Z"` + fields + `}}`
	}
	for _, c := range []struct {
		name, data string
		code       int64
		msg        string
		field      string
	}{
		{name: "not found", data: cbNotFound, code: 5, msg: "NOT_FOUND: order with this orderID was not found"},
		{name: "rate limit", data: cbRateLimited, msg: "rate_limit_exceeded: Too many requests"},
		{name: "no order", data: `{}`, field: "order"},
		{name: "no order id", data: `{"order":{"product_id":"BTC-USD","status":"OPEN"}}`, field: "order_id"},
		{name: "unknown status", data: strings.Replace(order(""), `"OPEN"`, `"UNKNOWN_ORDER_STATUS"`, 1), field: "status"},
		{name: "no product", data: `{"order":{"order_id":"1","status":"OPEN"}}`, field: "product_id"},
		{name: "negative fill", data: order(`,"filled_size":"-1"`), field: "executed qty"},
		{name: "negative value", data: order(`,"filled_value":"-1"`), field: "filled_value"},
		{name: "bad side", data: order(`,"side":"UP"`), field: "side"},
		{name: "bad time", data: order(`,"last_fill_time":"yesterday"`), field: "last_fill_time"},
		{name: "config not an object", data: order(`,"order_configuration":[1]`)},
		{name: "malformed", data: `{"order":{"order_id":`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := normalize.ParseCoinbaseOrder([]byte(c.data), syms)
			require.Error(t, err)
			var qerr *normalize.QueryError
			var perr *normalize.ParseError
			switch {
			case c.msg != "":
				require.ErrorAs(t, err, &qerr)
				assert.Equal(t, []any{schema.VenueCoinbase, c.code, c.msg}, []any{qerr.Venue, qerr.Code, qerr.Msg})
			case c.field != "":
				require.ErrorAs(t, err, &perr)
				assert.Equal(t, c.field, perr.Field)
			default:
				require.ErrorIs(t, err, normalize.ErrMalformed)
			}
		})
	}
	for _, data := range []string{
		`{"fills":[{"order_id":"1","product_id":"BTC-USD","price":"1","size":"1"}]}`,
		`{"fills":[{"trade_id":"1","product_id":"BTC-USD","price":"1","size":"1"}]}`,
		`{"fills":[{"trade_id":"1","order_id":"1","product_id":"BTC-USD","price":"0","size":"1"}]}`,
		`{"fills":[{"trade_id":"1","order_id":"1","product_id":"BTC-USD","price":"1","size":"-1"}]}`,
		`{"fills":[{"trade_id":"1","order_id":"1","product_id":"","price":"1","size":"1"}]}`,
		`{"fills":[{"trade_id":"1","order_id":"1","product_id":"BTC-USD","price":"1","size":"1","trade_time":"x"}]}`,
	} {
		_, _, err := normalize.ParseCoinbaseFills([]byte(data), syms, nil)
		var perr *normalize.ParseError
		require.ErrorAs(t, err, &perr, data)
	}
	_, _, err := normalize.ParseCoinbaseFills([]byte(cbRateLimited), syms, nil)
	var qerr *normalize.QueryError
	require.ErrorAs(t, err, &qerr)
	_, _, err = normalize.ParseCoinbaseOrders([]byte(cbNotFound), syms, nil)
	require.ErrorAs(t, err, &qerr)
	assert.Equal(t, int64(5), qerr.Code)
}

// TestCoinbaseRESTJWT: a REST request's token is the WebSocket's with the
// claim uri "GET api.coinbase.com/api/v3/brokerage/…" (the path without
// its query), verifiable with the key's public half; the WebSocket's has
// no uri.
func TestCoinbaseRESTJWT(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	const name = "organizations/o/apiKeys/k"
	now := time.Unix(1700000000, 0)
	claims := func(tok string) map[string]any {
		parts := strings.Split(tok, ".")
		require.Len(t, parts, 3)
		b, err := base64.RawURLEncoding.DecodeString(parts[1])
		require.NoError(t, err)
		var c map[string]any
		require.NoError(t, json.Unmarshal(b, &c))
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		require.NoError(t, err)
		require.Len(t, sig, 64)
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		require.True(t, ecdsa.Verify(&key.PublicKey, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])))
		return c
	}
	tok, err := normalize.CoinbaseRESTJWT(name, key, now, "GET", "api.coinbase.com", normalize.CoinbasePathFills)
	require.NoError(t, err)
	c := claims(tok)
	assert.Equal(t, "GET api.coinbase.com/api/v3/brokerage/orders/historical/fills", c["uri"])
	assert.Equal(t, []any{"cdp", name, float64(now.Unix()), float64(now.Unix() + 120)}, []any{c["iss"], c["sub"], c["nbf"], c["exp"]})
	ws, err := normalize.CoinbaseJWT(name, key, now)
	require.NoError(t, err)
	assert.NotContains(t, claims(ws), "uri")
	for _, bad := range [][3]string{{"", "h", "/p"}, {"GET", "", "/p"}, {"GET", "h", "p"}} {
		_, err := normalize.CoinbaseRESTJWT(name, key, now, bad[0], bad[1], bad[2])
		require.ErrorIs(t, err, normalize.ErrBadValue)
	}
}

// FuzzCoinbaseQueryAnswers: whatever the answer, the decoders return
// orders and fills that hold together, or an error; never a panic. A
// Coinbase refusal may have no numeric code: it has a message.
func FuzzCoinbaseQueryAnswers(f *testing.F) {
	for _, s := range []string{cbOrderAnswer, cbOrdersAnswer, cbFillsAnswer, cbNotFound, cbRateLimited,
		`{"order":{}}`, `{"orders":[{}],"has_next":"true"}`, `{"fills":null,"cursor":1}`, `{"order":{"order_configuration":{"a":{"base_size":"1"},"b":null}}}`,
		`{"error":{}}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	syms := normalize.NewSymbols(normalize.CoinbaseSymbolRules())
	check := func(t *testing.T, err error) {
		var qerr *normalize.QueryError
		var perr *normalize.ParseError
		switch {
		case err == nil, errors.As(err, &perr):
		case errors.As(err, &qerr):
			if qerr.Msg == "" && qerr.Code == 0 {
				t.Fatalf("a refusal that says nothing: %v", err)
			}
		default:
			t.Fatalf("untyped error %v", err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		order, err := normalize.ParseCoinbaseOrder(data, syms)
		check(t, err)
		if err == nil {
			require.Len(t, order, 1)
			checkOrders(t, order)
		}
		orders, _, err := normalize.ParseCoinbaseOrders(data, syms, nil)
		check(t, err)
		if err == nil {
			checkOrders(t, orders)
		}
		fills, _, err := normalize.ParseCoinbaseFills(data, syms, nil)
		check(t, err)
		if err == nil {
			checkFills(t, fills)
		}
	})
}
