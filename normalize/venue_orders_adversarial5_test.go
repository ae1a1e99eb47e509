package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
