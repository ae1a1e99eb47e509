package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestAdv5RateLimitAnswers: the venues' rate-limit and overload answers,
// as documented, are refusals with the venue's code and message, given to
// the request they answer (its id kept): OKX 50011 "Rate limit reached"
// (as the order's sCode under code "1", or as the top-level code with no
// order; OKX v5 "Error Code"), 50061 sub-account order rate limit; Bybit
// 10006 "Too many visits", 10429 and 20003 frequency protection, 20006
// duplicated reqId, 10019 trade service restarting, with the
// X-Bapi-Limit-* headers and retExtInfo (Bybit v5 "Error Codes", "WebSocket
// Trade Guideline"); Kraken "EOrder:Rate limit exceeded" and
// "EService:Unavailable" (Kraken "Spot Error Messages").
func TestAdv5RateLimitAnswers(t *testing.T) {
	for _, c := range []struct {
		venue, data string
		id          uint64
		code        int64
		msg         string
	}{
		{"okx", `{"id":"21","op":"order","data":[{"clOrdId":"b1","ordId":"","tag":"","ts":"1695190491421","sCode":"50011","sMsg":"Rate limit reached. Please refer to API documentation and throttle requests accordingly."}],"code":"1","msg":"","inTime":"1695190491421339","outTime":"1695190491423240"}`,
			21, 50011, "Rate limit reached. Please refer to API documentation and throttle requests accordingly."},
		{"okx", `{"id":"22","op":"order","data":[],"code":"50011","msg":"Rate limit reached. Please refer to API documentation and throttle requests accordingly.","inTime":"1","outTime":"2"}`,
			22, 50011, "Rate limit reached. Please refer to API documentation and throttle requests accordingly."},
		{"okx", `{"id":"23","op":"cancel-order","data":[{"ordId":"9","clOrdId":"","ts":"1695190491421","sCode":"50061","sMsg":"Sub-account rate limit exceeded."}],"code":"1","msg":""}`,
			23, 50061, "Sub-account rate limit exceeded."},
		{"bybit", `{"reqId":"31","retCode":10006,"retMsg":"Too many visits. Exceeded the API Rate Limit.","op":"order.create","data":{},"retExtInfo":{},"header":{"X-Bapi-Limit":"10","X-Bapi-Limit-Status":"0","X-Bapi-Limit-Reset-Timestamp":"1711001596000","Traceid":"x","Timenow":"1711001595209"},"connId":"c"}`,
			31, 10006, "Too many visits. Exceeded the API Rate Limit."},
		{"bybit", `{"reqId":"32","retCode":10429,"retMsg":"System level frequency protection","op":"order.create","data":{},"retExtInfo":{},"header":{"Timenow":"1711001595209"}}`,
			32, 10429, "System level frequency protection"},
		{"bybit", `{"reqId":"33","retCode":20006,"retMsg":"reqId is duplicated","op":"order.cancel","data":{},"retExtInfo":{}}`,
			33, 20006, "reqId is duplicated"},
		{"bybit", `{"reqId":"34","retCode":10019,"retMsg":"ws trade service is restarting, do not accept new request","op":"order.create","data":{},"retExtInfo":{"list":[]}}`,
			34, 10019, "ws trade service is restarting, do not accept new request"},
		{"kraken", `{"error":"EOrder:Rate limit exceeded","method":"add_order","req_id":41,"success":false,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`,
			41, 0, "EOrder:Rate limit exceeded"},
		{"kraken", `{"error":"EService:Unavailable","method":"cancel_order","req_id":42,"success":false}`,
			42, 0, "EService:Unavailable"},
	} {
		t.Run(c.venue+c.msg, func(t *testing.T) {
			var a OrderAnswer
			ok, err := readAnswer(c.venue, []byte(c.data), &a)
			require.NoError(t, err)
			require.True(t, ok)
			assert.False(t, a.Accepted)
			assert.Equal(t, c.id, a.RequestID)
			assert.Equal(t, c.code, a.Code)
			assert.Equal(t, c.msg, a.Msg)
		})
	}
}

// TestAdv5ClientOrderIDBounds: each venue's client order id rule at its
// edges, as documented — Binance newClientOrderId ^[.A-Z:/a-z0-9_-]{1,36}$
// (WS-API "Place new order"); OKX clOrdId "a combination of case-sensitive
// alphanumerics, all numbers, or all letters of up to 32 characters";
// Bybit orderLinkId "max 36 characters: numbers, letters (upper and lower
// cases), dashes, and underscores"; Kraken cl_ord_id a long UUID, a short
// UUID (32 hex) or free text of at most 18 characters ("Spot Client Order
// Identifiers"). What the venue takes goes out; what it refuses is
// ErrBadValue, sent nowhere. The same rule holds for the id a cancel
// names.
func TestAdv5ClientOrderIDBounds(t *testing.T) {
	rep := func(s string, n int) string { return strings.Repeat(s, n) }
	binance := NewBinanceOrders(NewCredentials("k", NewHMACSigner([]byte("s"))), &OrderOptions{Now: fixedNow})
	encode := map[string]func(o *schema.OrderRequest) error{
		"binance": func(o *schema.OrderRequest) error { _, err := binance.AppendRequest(nil, 1, o); return err },
		"okx":     func(o *schema.OrderRequest) error { _, err := NewOKXOrders(nil).AppendRequest(nil, 1, o); return err },
		"bybit": func(o *schema.OrderRequest) error {
			_, err := NewBybitOrders(nil).AppendRequest(nil, 1, o, fixedNow())
			return err
		},
		"kraken": func(o *schema.OrderRequest) error {
			o.Symbol = "BTC-USD"
			_, err := NewKrakenOrders(nil).AppendRequest(nil, 1, o, "tok")
			return err
		},
	}
	for _, tc := range []struct {
		venue, id string
		ok        bool
	}{
		{"binance", rep("a", 36), true}, {"binance", "A-b_c9", true}, {"binance", "A.b:c/d_e-f", false}, {"binance", rep("a", 37), false},
		{"binance", "a b", false}, {"binance", "a+b", false}, {"binance", "é", false},
		{"okx", rep("a", 32), true}, {"okx", "12345", true}, {"okx", "aB3", true}, {"okx", rep("a", 33), false},
		{"okx", "a-b", false}, {"okx", "a_b", false},
		{"bybit", rep("a", 36), true}, {"bybit", "a-b_C9", true}, {"bybit", rep("a", 37), false},
		{"bybit", "a.b", false}, {"bybit", "a:b", false},
		{"kraken", "6d1b345e-2821-40e2-ad83-4ecb18a06876", true}, {"kraken", "6d1b345e282140e2ad834ecb18a06876", true},
		{"kraken", rep("a", 18), true}, {"kraken", rep("a", 19), false}, {"kraken", rep("a", 33), false},
		{"kraken", "6d1b345e-2821-40e2-ad83-4ecb18a0687", false},
	} {
		t.Run(tc.venue+" "+tc.id, func(t *testing.T) {
			o := okxLimit()
			o.ClientOrderID = schema.MustID(tc.id)
			err := encode[tc.venue](o)
			c := &schema.OrderRequest{Action: schema.ActionCancel, Symbol: o.Symbol, OrigClientOrderID: schema.MustID(tc.id)}
			cerr := encode[tc.venue](c)
			if tc.ok {
				require.NoError(t, err)
				require.NoError(t, cerr)
				return
			}
			require.ErrorIs(t, err, ErrBadValue)
			require.ErrorIs(t, cerr, ErrBadValue)
		})
	}
}
