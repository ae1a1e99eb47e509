package meltica_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// What Meltica SENDS, against each venue's documented request format:
// member names, strings where the venue documents strings and numbers
// where it documents numbers, the signature's base string recomputed here
// from the venue's documentation (not from Meltica's code), timestamp
// units and recvWindow. Sources:
//   - Binance spot WebSocket API (web-socket-api.md): "Request format"
//     {"id","method","params"}; "SIGNED (TRADE and USER_DATA) request
//     security": the payload is every parameter but signature, sorted by
//     name, as name=value joined with &, HMAC-SHA256 in hex; timestamp in
//     ms; recvWindow in ms; "Place new order (TRADE)" order.place,
//     "Cancel order (TRADE)" order.cancel, "Subscribe to User Data
//     Stream through signature subscription" userDataStream.subscribe.signature.
//   - OKX v5 "WebSocket → Login": timestamp Unix seconds (a string in the
//     example), sign = Base64(HMAC-SHA256(secret, timestamp+"GET"+
//     "/users/self/verify")); "WS / Place order": {"id":String,"op":"order",
//     "args":[{instId, tdMode, side, ordType, sz:String, px:String,
//     clOrdId}]}; "WS / Cancel order" op "cancel-order".
//   - Bybit v5 "WebSocket Connect → Authentication": {"op":"auth","args":
//     [apiKey, expires (ms, integer), signature = hex HMAC-SHA256(secret,
//     "GET/realtime"+expires)]}; "WebSocket Trade Guideline":
//     {"reqId":String,"header":{"X-BAPI-TIMESTAMP":String ms,
//     "X-BAPI-RECV-WINDOW":String},"op":"order.create","args":[{category,
//     symbol, side "Buy"/"Sell", orderType "Limit"/"Market", qty:String,
//     price:String, timeInForce, orderLinkId}]}.
//   - Kraken Spot WebSocket v2 "add_order": {"method":"add_order",
//     "params":{order_type, side, order_qty:float, limit_price:float,
//     symbol "BTC/USD", time_in_force, cl_ord_id, token},"req_id":integer};
//     "cancel_order": cl_ord_id or order_id as arrays of strings.

// s28ctJSON decodes a request, keeping numbers as json.Number so that a
// string and a number stay apart.
func s28ctJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m), "%s", b)
	return m
}

func s28ctObj(t *testing.T, v any, what string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "%s is an object: %#v", what, v)
	return m
}

func s28ctStr(t *testing.T, m map[string]any, key string) string {
	t.Helper()
	v, ok := m[key].(string)
	require.True(t, ok, "%q is a JSON string: %#v (in %v)", key, m[key], m)
	return v
}

func s28ctNum(t *testing.T, m map[string]any, key string) json.Number {
	t.Helper()
	v, ok := m[key].(json.Number)
	require.True(t, ok, "%q is a JSON number: %#v (in %v)", key, m[key], m)
	return v
}

// s28ctBinancePayload is the documented signature payload of params.
func s28ctBinancePayload(params map[string]any) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+fmt.Sprint(params[k]))
	}
	return strings.Join(parts, "&")
}

func s28ctHMACHex(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

var s28ctAt = time.Date(2026, 12, 1, 3, 30, 15, 123456789, time.UTC)

func s28ctLimit(cid string) *schema.OrderRequest {
	return &schema.OrderRequest{Symbol: "BTC-USDT", ClientOrderID: schema.MustID(cid), Side: schema.SideBuy,
		Type: schema.OrderTypeLimit, TimeInForce: schema.TIFGTC,
		Price: schema.MustParseDecimal("1000.10"), Qty: schema.MustParseDecimal("0.50")}
}

func TestS28ctWireBinance(t *testing.T) {
	creds := normalize.NewCredentials("key1", normalize.NewHMACSigner([]byte("sec1")))
	enc := normalize.NewBinanceOrders(creds, &normalize.OrderOptions{RecvWindow: 5 * time.Second, Now: func() time.Time { return s28ctAt }})
	check := func(t *testing.T, b []byte, method string) map[string]any {
		t.Helper()
		m := s28ctJSON(t, b)
		assert.Equal(t, method, s28ctStr(t, m, "method"))
		_, isNum := m["id"].(json.Number)
		_, isStr := m["id"].(string)
		assert.True(t, isNum || isStr, "id: an integer or a string: %#v", m["id"])
		p := s28ctObj(t, m["params"], "params")
		assert.Equal(t, "key1", s28ctStr(t, p, "apiKey"))
		assert.Equal(t, strconv.FormatInt(s28ctAt.UnixMilli(), 10), s28ctNum(t, p, "timestamp").String(), "timestamp in ms")
		assert.Equal(t, "5000", fmt.Sprint(p["recvWindow"]), "recvWindow in ms")
		sig := s28ctStr(t, p, "signature")
		assert.Equal(t, s28ctHMACHex("sec1", s28ctBinancePayload(p)), sig, "HMAC-SHA256 hex of the sorted payload %q", s28ctBinancePayload(p))
		// The docs' payload is also what a form encoder of the same
		// parameters gives: no value may need escaping to be signed alike.
		for k, v := range p {
			if k == "signature" {
				continue
			}
			s := fmt.Sprint(v)
			assert.Equal(t, s, url.QueryEscape(s), "param %s=%q signs as sent", k, s)
		}
		return p
	}

	t.Run("place limit", func(t *testing.T) {
		b, err := enc.AppendRequest(nil, 7, s28ctLimit("s28ct-a1"))
		require.NoError(t, err)
		p := check(t, b, "order.place")
		assert.Equal(t, "BTCUSDT", s28ctStr(t, p, "symbol"))
		assert.Equal(t, "BUY", s28ctStr(t, p, "side"))
		assert.Equal(t, "LIMIT", s28ctStr(t, p, "type"))
		assert.Equal(t, "GTC", s28ctStr(t, p, "timeInForce"))
		assert.Equal(t, "1000.10", fmt.Sprint(p["price"]), "the price's digits")
		assert.Equal(t, "0.50", fmt.Sprint(p["quantity"]), "the quantity's digits")
		assert.Equal(t, "s28ct-a1", s28ctStr(t, p, "newClientOrderId"))
		assert.Equal(t, "RESULT", fmt.Sprint(p["newOrderRespType"]), "README: asking for the RESULT answer")
		assert.NotContains(t, p, "quoteOrderQty")
	})
	t.Run("place market by quote", func(t *testing.T) {
		o := &schema.OrderRequest{Symbol: "BTC-USDT", ClientOrderID: schema.MustID("s28ct-m1"), Side: schema.SideBuy,
			Type: schema.OrderTypeMarket, QuoteQty: schema.MustParseDecimal("25.5")}
		b, err := enc.AppendRequest(nil, 8, o)
		require.NoError(t, err)
		p := check(t, b, "order.place")
		assert.Equal(t, "MARKET", s28ctStr(t, p, "type"))
		assert.Equal(t, "25.5", fmt.Sprint(p["quoteOrderQty"]))
		for _, k := range []string{"price", "timeInForce", "quantity"} {
			assert.NotContains(t, p, k, "a market order by quote amount sends no %s", k)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		o := &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USDT", OrigClientOrderID: schema.MustID("s28ct-a1"), ClientOrderID: schema.MustID("s28ct-c1")}
		b, err := enc.AppendRequest(nil, 9, o)
		require.NoError(t, err)
		p := check(t, b, "order.cancel")
		assert.Equal(t, "BTCUSDT", s28ctStr(t, p, "symbol"))
		assert.Equal(t, "s28ct-a1", s28ctStr(t, p, "origClientOrderId"))
		assert.Equal(t, "s28ct-c1", s28ctStr(t, p, "newClientOrderId"), "the cancel's own id")
		assert.NotContains(t, p, "side")
		o = &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USDT", VenueOrderID: schema.MustID("12345")}
		b, err = enc.AppendRequest(nil, 10, o)
		require.NoError(t, err)
		p = check(t, b, "order.cancel")
		assert.Equal(t, "12345", fmt.Sprint(p["orderId"]), "orderId")
	})
	t.Run("user data subscription", func(t *testing.T) {
		b, err := enc.AppendUserDataSubscribe(nil, 11, s28ctAt)
		require.NoError(t, err)
		check(t, b, "userDataStream.subscribe.signature")
	})
	t.Run("order status", func(t *testing.T) {
		b, err := enc.AppendOrderStatus(nil, 12, "BTC-USDT", schema.MustID("12345"))
		require.NoError(t, err)
		p := check(t, b, "order.status")
		assert.Equal(t, "BTCUSDT", s28ctStr(t, p, "symbol"))
		assert.Equal(t, "12345", fmt.Sprint(p["orderId"]))
	})
	t.Run("ed25519", func(t *testing.T) {
		// "SIGNED Request Example (Ed25519)": the same payload, the
		// signature Base64.
		pub, priv, err := ed25519.GenerateKey(nil)
		require.NoError(t, err)
		enc := normalize.NewBinanceOrders(normalize.NewCredentials("key1", normalize.NewEd25519Signer(priv)), &normalize.OrderOptions{Now: func() time.Time { return s28ctAt }})
		b, err := enc.AppendRequest(nil, 13, s28ctLimit("s28ct-e1"))
		require.NoError(t, err)
		p := s28ctObj(t, s28ctJSON(t, b)["params"], "params")
		sig, err := base64.StdEncoding.DecodeString(s28ctStr(t, p, "signature"))
		require.NoError(t, err)
		assert.True(t, ed25519.Verify(pub, []byte(s28ctBinancePayload(p)), sig), "Ed25519 over %q", s28ctBinancePayload(p))
		assert.NotContains(t, p, "recvWindow", "RecvWindow 0: not sent")
	})
	t.Run("decimals in the legal form", func(t *testing.T) {
		// errors.md -1100: a decimal must match ^([0-9]{1,20})(\.[0-9]{1,20})?$
		legal := regexp.MustCompile(`^([0-9]{1,20})(\.[0-9]{1,20})?$`)
		for _, in := range []string{"1e3", "1.5E+2", "25E-3", "0.000000000000000001", "123456789012345678", "1000.100000000000000000"} {
			d, err := schema.ParseDecimal(in)
			require.NoError(t, err, in)
			o := s28ctLimit("s28ct-d1")
			o.Price, o.Qty = d, d
			b, err := enc.AppendRequest(nil, 14, o)
			require.NoError(t, err, in)
			p := s28ctObj(t, s28ctJSON(t, b)["params"], "params")
			for _, k := range []string{"price", "quantity"} {
				assert.Regexp(t, legal, fmt.Sprint(p[k]), "%s from %q", k, in)
			}
		}
	})
	t.Run("client order id rule", func(t *testing.T) {
		// spot newClientOrderId: ^[a-zA-Z0-9-_]{1,36}$
		for _, cid := range []string{strings.Repeat("a", 37), "s28ct.a1", "s28ct:a1"} {
			_, err := enc.AppendRequest(nil, 15, s28ctLimit(cid))
			assert.Error(t, err, "newClientOrderId %q refused before signing", cid)
		}
		_, err := enc.AppendRequest(nil, 15, s28ctLimit(strings.Repeat("a", 36)))
		assert.NoError(t, err, "36 characters are legal")
	})
	t.Run("subscribe", func(t *testing.T) {
		b, err := normalize.BinanceSubscribe(3, "btcusdt@trade", "btcusdt@depth@100ms")
		require.NoError(t, err)
		m := s28ctJSON(t, b)
		assert.Equal(t, "SUBSCRIBE", s28ctStr(t, m, "method"))
		assert.Equal(t, []any{"btcusdt@trade", "btcusdt@depth@100ms"}, m["params"])
		assert.Equal(t, "3", s28ctNum(t, m, "id").String())
	})
}

func TestS28ctWireOKX(t *testing.T) {
	t.Run("login", func(t *testing.T) {
		b, err := normalize.OKXLogin("key2", "pass2", []byte("sec2"), s28ctAt)
		require.NoError(t, err)
		m := s28ctJSON(t, b)
		assert.Equal(t, "login", s28ctStr(t, m, "op"))
		args, _ := m["args"].([]any)
		require.Len(t, args, 1)
		a := s28ctObj(t, args[0], "args[0]")
		ts := s28ctStr(t, a, "timestamp")
		assert.Equal(t, strconv.FormatInt(s28ctAt.Unix(), 10), ts, "Unix seconds")
		mac := hmac.New(sha256.New, []byte("sec2"))
		mac.Write([]byte(ts + "GET" + "/users/self/verify"))
		assert.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), s28ctStr(t, a, "sign"))
		assert.Equal(t, "key2", s28ctStr(t, a, "apiKey"))
		assert.Equal(t, "pass2", s28ctStr(t, a, "passphrase"))
	})
	enc := normalize.NewOKXOrders(nil)
	t.Run("place limit", func(t *testing.T) {
		b, err := enc.AppendRequest(nil, 21, s28ctLimit("s28ctA1"))
		require.NoError(t, err)
		m := s28ctJSON(t, b)
		assert.Equal(t, "order", s28ctStr(t, m, "op"))
		assert.Equal(t, "21", s28ctStr(t, m, "id"), "id: a string")
		args, _ := m["args"].([]any)
		require.Len(t, args, 1)
		a := s28ctObj(t, args[0], "args[0]")
		assert.Equal(t, "BTC-USDT", s28ctStr(t, a, "instId"))
		assert.Equal(t, "cash", s28ctStr(t, a, "tdMode"))
		assert.Equal(t, "buy", s28ctStr(t, a, "side"))
		assert.Equal(t, "limit", s28ctStr(t, a, "ordType"))
		assert.Equal(t, "0.50", s28ctStr(t, a, "sz"))
		assert.Equal(t, "1000.10", s28ctStr(t, a, "px"))
		assert.Equal(t, "s28ctA1", s28ctStr(t, a, "clOrdId"))
	})
	t.Run("market by quote", func(t *testing.T) {
		o := &schema.OrderRequest{Symbol: "BTC-USDT", ClientOrderID: schema.MustID("s28ctM1"), Side: schema.SideBuy,
			Type: schema.OrderTypeMarket, QuoteQty: schema.MustParseDecimal("25.5")}
		b, err := enc.AppendRequest(nil, 22, o)
		require.NoError(t, err)
		a := s28ctObj(t, s28ctJSON(t, b)["args"].([]any)[0], "args[0]")
		assert.Equal(t, "market", s28ctStr(t, a, "ordType"))
		assert.Equal(t, "25.5", s28ctStr(t, a, "sz"))
		assert.Equal(t, "quote_ccy", s28ctStr(t, a, "tgtCcy"))
		assert.NotContains(t, a, "px")
	})
	t.Run("cancel", func(t *testing.T) {
		o := &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USDT", OrigClientOrderID: schema.MustID("s28ctA1")}
		b, err := enc.AppendRequest(nil, 23, o)
		require.NoError(t, err)
		m := s28ctJSON(t, b)
		assert.Equal(t, "cancel-order", s28ctStr(t, m, "op"))
		a := s28ctObj(t, m["args"].([]any)[0], "args[0]")
		assert.Equal(t, "BTC-USDT", s28ctStr(t, a, "instId"))
		assert.Equal(t, "s28ctA1", s28ctStr(t, a, "clOrdId"))
	})
	t.Run("clOrdId rule", func(t *testing.T) {
		// "A combination of case-sensitive alphanumerics, all numbers, or
		// all letters of up to 32 characters."
		for _, cid := range []string{"s28ct-a1", "s28ct_a1", strings.Repeat("a", 33)} {
			_, err := enc.AppendRequest(nil, 24, s28ctLimit(cid))
			assert.ErrorIs(t, err, normalize.ErrBadValue, "clOrdId %q", cid)
		}
	})
	t.Run("subscribe", func(t *testing.T) {
		b, err := normalize.OKXSubscribe("trades", "BTC-USDT")
		require.NoError(t, err)
		m := s28ctJSON(t, b)
		assert.Equal(t, "subscribe", s28ctStr(t, m, "op"))
		a := s28ctObj(t, m["args"].([]any)[0], "args[0]")
		assert.Equal(t, "trades", s28ctStr(t, a, "channel"))
		assert.Equal(t, "BTC-USDT", s28ctStr(t, a, "instId"))
	})
}

func TestS28ctWireBybit(t *testing.T) {
	creds := normalize.NewCredentials("key3", normalize.NewHMACSigner([]byte("sec3")))
	for name, auth := range map[string]func(*normalize.Credentials, uint64, time.Time) ([]byte, error){
		"private": normalize.BybitAuth, "trade": normalize.BybitTradeAuth,
	} {
		t.Run("auth "+name, func(t *testing.T) {
			b, err := auth(creds, 31, s28ctAt)
			require.NoError(t, err)
			m := s28ctJSON(t, b)
			assert.Equal(t, "auth", s28ctStr(t, m, "op"))
			args, _ := m["args"].([]any)
			require.Len(t, args, 3)
			assert.Equal(t, "key3", args[0])
			exp, ok := args[1].(json.Number)
			require.True(t, ok, "expires: an integer: %#v", args[1])
			assert.Equal(t, strconv.FormatInt(s28ctAt.UnixMilli(), 10), exp.String(), "expires in ms")
			assert.Equal(t, s28ctHMACHex("sec3", "GET/realtime"+exp.String()), args[2])
		})
	}
	enc := normalize.NewBybitOrders(nil)
	header := func(t *testing.T, m map[string]any) {
		t.Helper()
		h := s28ctObj(t, m["header"], "header")
		assert.Equal(t, strconv.FormatInt(s28ctAt.UnixMilli(), 10), s28ctStr(t, h, "X-BAPI-TIMESTAMP"), "ms, a string")
		assert.Equal(t, "5000", s28ctStr(t, h, "X-BAPI-RECV-WINDOW"), "ms, a string")
	}
	t.Run("place limit", func(t *testing.T) {
		b, err := enc.AppendRequest(nil, 32, s28ctLimit("s28ct-a1"), s28ctAt)
		require.NoError(t, err)
		m := s28ctJSON(t, b)
		assert.Equal(t, "order.create", s28ctStr(t, m, "op"))
		assert.Equal(t, "32", s28ctStr(t, m, "reqId"), "reqId: a string")
		header(t, m)
		a := s28ctObj(t, m["args"].([]any)[0], "args[0]")
		assert.Equal(t, "spot", s28ctStr(t, a, "category"))
		assert.Equal(t, "BTCUSDT", s28ctStr(t, a, "symbol"))
		assert.Equal(t, "Buy", s28ctStr(t, a, "side"))
		assert.Equal(t, "Limit", s28ctStr(t, a, "orderType"))
		assert.Equal(t, "0.50", s28ctStr(t, a, "qty"))
		assert.Equal(t, "1000.10", s28ctStr(t, a, "price"))
		assert.Equal(t, "GTC", s28ctStr(t, a, "timeInForce"))
		assert.Equal(t, "s28ct-a1", s28ctStr(t, a, "orderLinkId"))
	})
	t.Run("market by quote", func(t *testing.T) {
		o := &schema.OrderRequest{Symbol: "BTC-USDT", ClientOrderID: schema.MustID("s28ct-m1"), Side: schema.SideBuy,
			Type: schema.OrderTypeMarket, QuoteQty: schema.MustParseDecimal("25.5")}
		b, err := enc.AppendRequest(nil, 33, o, s28ctAt)
		require.NoError(t, err)
		a := s28ctObj(t, s28ctJSON(t, b)["args"].([]any)[0], "args[0]")
		assert.Equal(t, "Market", s28ctStr(t, a, "orderType"))
		assert.Equal(t, "25.5", s28ctStr(t, a, "qty"))
		assert.Equal(t, "quoteCoin", s28ctStr(t, a, "marketUnit"))
		assert.NotContains(t, a, "price")
		assert.NotContains(t, a, "timeInForce")
	})
	t.Run("orderLinkId rule", func(t *testing.T) {
		for _, cid := range []string{strings.Repeat("a", 37), "s28ct.a1"} {
			_, err := enc.AppendRequest(nil, 36, s28ctLimit(cid), s28ctAt)
			assert.ErrorIs(t, err, normalize.ErrBadValue, "orderLinkId %q", cid)
		}
	})
	t.Run("post only", func(t *testing.T) {
		o := s28ctLimit("s28ct-p1")
		o.Type = schema.OrderTypeLimitMaker
		b, err := enc.AppendRequest(nil, 37, o, s28ctAt)
		require.NoError(t, err)
		a := s28ctObj(t, s28ctJSON(t, b)["args"].([]any)[0], "args[0]")
		assert.Equal(t, "PostOnly", s28ctStr(t, a, "timeInForce"))
		assert.Equal(t, "Limit", s28ctStr(t, a, "orderType"))
	})
	t.Run("cancel", func(t *testing.T) {
		o := &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USDT", OrigClientOrderID: schema.MustID("s28ct-a1")}
		b, err := enc.AppendRequest(nil, 34, o, s28ctAt)
		require.NoError(t, err)
		m := s28ctJSON(t, b)
		assert.Equal(t, "order.cancel", s28ctStr(t, m, "op"))
		header(t, m)
		a := s28ctObj(t, m["args"].([]any)[0], "args[0]")
		assert.Equal(t, "spot", s28ctStr(t, a, "category"))
		assert.Equal(t, "BTCUSDT", s28ctStr(t, a, "symbol"))
		assert.Equal(t, "s28ct-a1", s28ctStr(t, a, "orderLinkId"))
	})
	t.Run("subscribe", func(t *testing.T) {
		b, err := normalize.BybitSubscribe(35, "publicTrade.BTCUSDT")
		require.NoError(t, err)
		m := s28ctJSON(t, b)
		assert.Equal(t, "subscribe", s28ctStr(t, m, "op"))
		assert.Equal(t, []any{"publicTrade.BTCUSDT"}, m["args"])
		assert.Equal(t, "35", s28ctStr(t, m, "req_id"), "req_id: a string")
	})
}

func TestS28ctWireKraken(t *testing.T) {
	enc := normalize.NewKrakenOrders(nil)
	limit := s28ctLimit("s28ct-a1")
	limit.Symbol = "BTC-USD"
	t.Run("add_order", func(t *testing.T) {
		b, err := enc.AppendRequest(nil, 41, limit, "tok41")
		require.NoError(t, err)
		m := s28ctJSON(t, b)
		assert.Equal(t, "add_order", s28ctStr(t, m, "method"))
		assert.Equal(t, "41", s28ctNum(t, m, "req_id").String(), "req_id: an integer")
		p := s28ctObj(t, m["params"], "params")
		assert.Equal(t, "limit", s28ctStr(t, p, "order_type"))
		assert.Equal(t, "buy", s28ctStr(t, p, "side"))
		assert.Equal(t, "BTC/USD", s28ctStr(t, p, "symbol"))
		assert.Equal(t, "0.50", s28ctNum(t, p, "order_qty").String(), "a number, the request's digits")
		assert.Equal(t, "1000.10", s28ctNum(t, p, "limit_price").String(), "a number, the request's digits")
		assert.Equal(t, "gtc", s28ctStr(t, p, "time_in_force"))
		assert.Equal(t, "s28ct-a1", s28ctStr(t, p, "cl_ord_id"))
		assert.Equal(t, "tok41", s28ctStr(t, p, "token"))
	})
	t.Run("cl_ord_id forms", func(t *testing.T) {
		// "Spot Client Order Identifiers": long UUID, short UUID, or free
		// text of up to 18 printable ASCII characters.
		for _, cid := range []string{"123e4567-e89b-12d3-a456-426614174000", "123e4567e89b12d3a456426614174000", strings.Repeat("a", 18)} {
			o := s28ctLimit(cid)
			o.Symbol = "BTC-USD"
			_, err := enc.AppendRequest(nil, 44, o, "tok")
			assert.NoError(t, err, "cl_ord_id %q", cid)
		}
		for _, cid := range []string{strings.Repeat("a", 19), "123e4567-e89b-12d3-a456-42661417400"} {
			o := s28ctLimit(cid)
			o.Symbol = "BTC-USD"
			_, err := enc.AppendRequest(nil, 45, o, "tok")
			assert.ErrorIs(t, err, normalize.ErrBadValue, "cl_ord_id %q", cid)
		}
	})
	t.Run("cancel_order", func(t *testing.T) {
		o := &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USD", OrigClientOrderID: schema.MustID("s28ct-a1")}
		b, err := enc.AppendRequest(nil, 42, o, "tok42")
		require.NoError(t, err)
		m := s28ctJSON(t, b)
		assert.Equal(t, "cancel_order", s28ctStr(t, m, "method"))
		p := s28ctObj(t, m["params"], "params")
		assert.Equal(t, []any{"s28ct-a1"}, p["cl_ord_id"], "a list of strings")
		assert.Equal(t, "tok42", s28ctStr(t, p, "token"))
	})
	t.Run("subscribe", func(t *testing.T) {
		b, err := normalize.KrakenSubscribeBook(43, 25, "BTC/USD")
		require.NoError(t, err)
		m := s28ctJSON(t, b)
		assert.Equal(t, "subscribe", s28ctStr(t, m, "method"))
		p := s28ctObj(t, m["params"], "params")
		assert.Equal(t, "book", s28ctStr(t, p, "channel"))
		assert.Equal(t, []any{"BTC/USD"}, p["symbol"])
		assert.Equal(t, "25", s28ctNum(t, p, "depth").String())
		assert.Equal(t, "43", s28ctNum(t, m, "req_id").String())
	})
}

func TestS28ctWireCoinbase(t *testing.T) {
	b, err := normalize.CoinbaseSubscribe("market_trades", "BTC-USD")
	require.NoError(t, err)
	m := s28ctJSON(t, b)
	assert.Equal(t, "subscribe", s28ctStr(t, m, "type"))
	assert.Equal(t, "market_trades", s28ctStr(t, m, "channel"))
	assert.Equal(t, []any{"BTC-USD"}, m["product_ids"])
	b, err = normalize.CoinbaseSubscribe("heartbeats")
	require.NoError(t, err)
	m = s28ctJSON(t, b)
	assert.Equal(t, "heartbeats", s28ctStr(t, m, "channel"))
	ids, has := m["product_ids"]
	assert.True(t, !has || len(ids.([]any)) == 0, "heartbeats names no product: %v", ids)
}

// What the session itself sends to the (loopback) venue: the timestamps
// of its order.place requests and of its user-data subscriptions are
// Unix milliseconds of now (Binance "Timing security": "timestamp ... the
// millisecond timestamp of when the request was created"), each order
// stamped when its turn to be written came, so they never go backwards;
// the venue (which checks the HMAC signature of every request, recvWindow
// included) accepts them all.
func TestS28ctSessionSendsMillisecondsOfNow(t *testing.T) {
	ctx := context.Background()
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, APIKey: "k", APISecret: "s", PingInterval: -1})
	defer v.Close()
	start := time.Now()
	s, err := session.Start(ctx, session.Config{
		Endpoints:   session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"trade"},
		Credentials: normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s"))),
		RecvWindow:  1500 * time.Millisecond,
	})
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, s27ctWait)
	defer cancel()
	require.NoError(t, s.WaitConnected(wctx))
	for i := 0; i < 5; i++ {
		req := s27ctOrder(t, s, fmt.Sprintf("s28ct-ts%d", i))
		_, err := s.Place(wctx, req)
		s.Pools().Orders.Put(req)
		require.NoError(t, err, "the venue accepts the signature and the timestamp")
	}
	require.NoError(t, s.Close(ctx))
	end := time.Now()
	lo, hi := start.Add(-time.Second).UnixMilli(), end.Add(time.Second).UnixMilli()
	ts := v.PlaceTimestamps()
	require.Len(t, ts, 5)
	for i, x := range ts {
		assert.True(t, x >= lo && x <= hi, "order %d: timestamp %d is ms of now [%d, %d]", i, x, lo, hi)
		if i > 0 {
			assert.GreaterOrEqual(t, x, ts[i-1], "stamped in the order written")
		}
	}
	subs := v.UserDataSubscriptions()
	require.NotEmpty(t, subs)
	for i, u := range subs {
		assert.True(t, u.Accepted, "subscription %d accepted (code %d)", i, u.Code)
		assert.True(t, u.Timestamp >= lo && u.Timestamp <= hi, "subscription %d: timestamp %d is ms of now", i, u.Timestamp)
	}
}
