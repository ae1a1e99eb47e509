package normalize

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

const (
	testAPIKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
	testSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
)

func fixedNow() time.Time { return time.UnixMilli(1645423376532) }

type wsRequest struct {
	ID     uint64                    `json:"id"`
	Method string                    `json:"method"`
	Params map[string]jsontext.Value `json:"params"`
}

// signingPayload rebuilds what Binance verifies: every param but the
// signature, sorted, as key=value&….
func signingPayload(t *testing.T, req wsRequest) string {
	t.Helper()
	var keys []string
	for k := range req.Params {
		if k != "signature" {
			keys = append(keys, k)
		}
	}
	require.IsIncreasing(t, sortedCopy(keys))
	var parts []string
	for _, k := range sortedCopy(keys) {
		parts = append(parts, k+"="+strings.Trim(string(req.Params[k]), `"`))
	}
	return strings.Join(parts, "&")
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j] < c[j-1]; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c
}

func limitOrder() *schema.OrderRequest {
	return &schema.OrderRequest{
		Symbol: "BTC-USDT", Side: schema.SideSell, Type: schema.OrderTypeLimit, TimeInForce: schema.TIFGTC,
		Price: dec("23416.10000000"), Qty: dec("0.00847000"), ClientOrderID: schema.MustID("bot-42"),
	}
}

func TestBinanceOrderPlaceHMAC(t *testing.T) {
	enc := NewBinanceOrders(NewCredentials(testAPIKey, NewHMACSigner([]byte(testSecret))), &OrderOptions{Now: fixedNow, RecvWindow: 5 * time.Second})
	b, err := enc.AppendRequest(nil, 17, limitOrder())
	require.NoError(t, err)
	var req wsRequest
	require.NoError(t, json.Unmarshal(b, &req), string(b))
	require.Equal(t, uint64(17), req.ID)
	require.Equal(t, "order.place", req.Method)
	want := "apiKey=" + testAPIKey + "&newClientOrderId=bot-42&newOrderRespType=RESULT&price=23416.10000000&quantity=0.00847000&recvWindow=5000&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
	require.Equal(t, want, signingPayload(t, req))
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(want))
	require.Equal(t, `"`+hex.EncodeToString(mac.Sum(nil))+`"`, string(req.Params["signature"]))
	require.Equal(t, "1645423376532", string(req.Params["timestamp"]), "a JSON number")
	require.NotContains(t, string(b), testSecret)
}

func TestBinanceOrderEd25519AndCancel(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(strings.NewReader(strings.Repeat("seed", 16)))
	require.NoError(t, err)
	enc := NewBinanceOrders(NewCredentials(testAPIKey, NewEd25519Signer(priv)), &OrderOptions{Now: fixedNow})
	o := &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USDT", VenueOrderID: schema.MustID("12569099453"), OrigClientOrderID: schema.MustID("bot-42")}
	b, err := enc.AppendRequest([]byte("prefix:"), 18, o)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(b), "prefix:"))
	var req wsRequest
	require.NoError(t, json.Unmarshal(b[len("prefix:"):], &req))
	require.Equal(t, "order.cancel", req.Method)
	payload := signingPayload(t, req)
	require.Equal(t, "apiKey="+testAPIKey+"&orderId=12569099453&origClientOrderId=bot-42&symbol=BTCUSDT&timestamp=1645423376532", payload)
	sig, err := base64.StdEncoding.DecodeString(strings.Trim(string(req.Params["signature"]), `"`))
	require.NoError(t, err)
	require.True(t, ed25519.Verify(pub, []byte(payload), sig))
}

func TestBinanceOrderParams(t *testing.T) {
	enc := NewBinanceOrders(NewCredentials("k", NewHMACSigner([]byte("s"))), &OrderOptions{Now: fixedNow})
	tests := []struct {
		name string
		edit func(o *schema.OrderRequest)
		want string // the payload without apiKey, symbol and timestamp
		err  error
	}{
		{"market by quote", func(o *schema.OrderRequest) {
			o.Type, o.Price, o.Qty, o.QuoteQty, o.TimeInForce = schema.OrderTypeMarket, schema.Decimal{}, schema.Decimal{}, dec("100"), 0
		}, "newClientOrderId=bot-42&newOrderRespType=RESULT&quoteOrderQty=100&side=SELL&type=MARKET", nil},
		{"post only", func(o *schema.OrderRequest) { o.PostOnly = true },
			"newClientOrderId=bot-42&newOrderRespType=RESULT&price=23416.10000000&quantity=0.00847000&side=SELL&type=LIMIT_MAKER", nil},
		{"ioc", func(o *schema.OrderRequest) { o.TimeInForce = schema.TIFIOC },
			"newClientOrderId=bot-42&newOrderRespType=RESULT&price=23416.10000000&quantity=0.00847000&side=SELL&timeInForce=IOC&type=LIMIT", nil},
		{"stop limit", func(o *schema.OrderRequest) {
			o.Type, o.StopPrice, o.TimeInForce = schema.OrderTypeStopLossLimit, dec("23000"), 0
		},
			"newClientOrderId=bot-42&newOrderRespType=RESULT&price=23416.10000000&quantity=0.00847000&side=SELL&stopPrice=23000&timeInForce=GTC&type=STOP_LOSS_LIMIT", nil},
		{"reduce only", func(o *schema.OrderRequest) { o.ReduceOnly = true }, "", ErrUnsupported},
		{"gtx", func(o *schema.OrderRequest) { o.TimeInForce = schema.TIFGTX }, "", ErrUnsupported},
		{"post only market", func(o *schema.OrderRequest) {
			o.Type, o.Price, o.PostOnly = schema.OrderTypeMarket, schema.Decimal{}, true
		}, "", ErrUnsupported},
		{"bad client id", func(o *schema.OrderRequest) { o.ClientOrderID = schema.MustID(`a"b`) }, "", ErrBadValue},
		{"invalid", func(o *schema.OrderRequest) { o.Side = 0 }, "", schema.ErrInvalid},
		{"bad symbol", func(o *schema.OrderRequest) { o.Symbol = "BTCUSDT" }, "", ErrUnknownSymbol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := limitOrder()
			tt.edit(o)
			b, err := enc.AppendRequest(nil, 1, o)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			var req wsRequest
			require.NoError(t, json.Unmarshal(b, &req))
			got := signingPayload(t, req)
			got = strings.Replace(got, "apiKey=k&", "", 1)
			got = strings.Replace(got, "&symbol=BTCUSDT", "", 1)
			got = strings.Replace(got, "&timestamp=1645423376532", "", 1)
			require.Equal(t, tt.want, got)
		})
	}
	_, err := enc.AppendRequest(nil, 1, &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "BTC-USDT", VenueOrderID: schema.MustID("x1")})
	require.ErrorIs(t, err, ErrBadValue)
	require.Panics(t, func() { NewBinanceOrders(nil, nil) })
	require.Panics(t, func() { NewEd25519Signer(make([]byte, 3)) })
}

// TestCredentialsRedacted proves that no way of printing credentials or
// signers shows the secret.
func TestCredentialsRedacted(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(strings.NewReader(strings.Repeat("x", 64)))
	require.NoError(t, err)
	secrets := []string{testSecret, hex.EncodeToString([]byte(testSecret)), hex.EncodeToString(priv),
		base64.StdEncoding.EncodeToString(priv), string(priv[:8])}
	for _, c := range []*Credentials{
		NewCredentials(testAPIKey, NewHMACSigner([]byte(testSecret))),
		NewCredentials(testAPIKey, NewEd25519Signer(priv)),
	} {
		var outs []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
			outs = append(outs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, *c), fmt.Sprintf(verb, c.signer))
			outs = append(outs, fmt.Sprintf(verb, struct{ C *Credentials }{c}), fmt.Sprintf(verb, []any{*c}))
		}
		outs = append(outs, c.String(), c.GoString(), fmt.Sprint(c), fmt.Sprintln(*c))
		var log strings.Builder
		slog.New(slog.NewJSONHandler(&log, nil)).Info("login", "creds", c, "value", *c)
		outs = append(outs, log.String())
		js, err := json.Marshal(map[string]any{"c": c, "v": *c})
		require.NoError(t, err)
		outs = append(outs, string(js))
		for _, out := range outs {
			for _, s := range secrets {
				require.NotContains(t, out, s)
			}
			require.NotContains(t, out, testAPIKey, "the full API key is not printed either")
		}
		require.Contains(t, c.String(), "vmPU…")
		require.Equal(t, testAPIKey, c.APIKey())
	}
	require.Contains(t, NewCredentials("k", nil).String(), "none")
}

func TestBinanceSubscribe(t *testing.T) {
	b, err := BinanceSubscribe(1, "btcusdt@trade", "btcusdt@depth@100ms")
	require.NoError(t, err)
	require.JSONEq(t, `{"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@depth@100ms"],"id":1}`, string(b))
	b, err = BinanceUnsubscribe(2, "!miniTicker@arr")
	require.NoError(t, err)
	require.JSONEq(t, `{"method":"UNSUBSCRIBE","params":["!miniTicker@arr"],"id":2}`, string(b))
	_, err = BinanceSubscribe(3)
	require.ErrorIs(t, err, ErrBadValue)
	_, err = BinanceSubscribe(3, `x"y`)
	require.ErrorIs(t, err, ErrBadValue)

	syms := NewBinanceSymbols()
	s, err := BinanceStream(syms, "BTC-USDT", "aggTrade")
	require.NoError(t, err)
	require.Equal(t, "btcusdt@aggTrade", s)
	s, err = BinanceStream(syms, "BTC-USD-PERP", "bookTicker")
	require.NoError(t, err)
	require.Equal(t, "btcusd_perp@bookTicker", s)
	_, err = BinanceStream(syms, "BTCUSDT", "trade")
	require.ErrorIs(t, err, ErrUnknownSymbol)
	_, err = BinanceStream(syms, "BTC-USDT", "tr ade")
	require.ErrorIs(t, err, ErrBadValue)
}

// BenchmarkBinanceOrderPlace measures encoding and signing one order.place
// request into a reused buffer.
func BenchmarkBinanceOrderPlace(b *testing.B) {
	enc := NewBinanceOrders(NewCredentials(testAPIKey, NewHMACSigner([]byte(testSecret))), &OrderOptions{Now: fixedNow})
	o := limitOrder()
	var buf []byte
	b.ReportAllocs()
	for range b.N {
		var err error
		if buf, err = enc.AppendRequest(buf[:0], 17, o); err != nil {
			b.Fatal(err)
		}
	}
}
