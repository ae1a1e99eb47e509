package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// s40weight is the REQUEST_WEIGHT count an answer reports.
func s40weight(t *testing.T, m map[string]any) float64 {
	t.Helper()
	for _, l := range m["rateLimits"].([]any) {
		if l := l.(map[string]any); l["rateLimitType"] == "REQUEST_WEIGHT" {
			return l["count"].(float64)
		}
	}
	require.FailNow(t, "no REQUEST_WEIGHT in", "%v", m)
	return 0
}

// Binance spot WS-API "Account prevented matches" (myPreventedMatches;
// REST GET /api/v3/myPreventedMatches): "Displays the list of orders that
// were expired due to STP", by symbol+preventedMatchId (weight 2) or
// symbol+orderId (weight 20, the taker's or the maker's), paged with
// fromPreventedMatchId and limit; each record symbol, preventedMatchId,
// takerOrderId, makerSymbol, makerOrderId, tradeGroupId,
// selfTradePreventionMode, price, makerPreventedQuantity (and
// takerPreventedQuantity when the taker expired), transactTime. venuesim
// answered it -1100, an unknown method.
func TestS40simMyPreventedMatches(t *testing.T) {
	x := s39stpStart(t)
	res := x.sell(t, "EXPIRE_BOTH")
	require.Equal(t, "EXPIRED_IN_MATCH", res["status"])
	taker := res["orderId"].(float64)
	at := res["transactTime"]
	want := []any{map[string]any{"symbol": "BTCUSDT", "preventedMatchId": float64(0), "takerOrderId": taker,
		"makerSymbol": "BTCUSDT", "makerOrderId": x.maker, "tradeGroupId": float64(1), "selfTradePreventionMode": "EXPIRE_BOTH",
		"price": x.p1, "takerPreventedQuantity": "0.00200000", "makerPreventedQuantity": "0.00100000", "transactTime": at}}

	ask := func(id uint64, params string) map[string]any {
		write(t, x.a.c, `{"id":`+itoa(id)+`,"method":"myPreventedMatches","params":{"symbol":"BTCUSDT",`+params+`"timestamp":1}}`)
		return x.a.response(float64(id))
	}
	before := s40weight(t, ask(10, `"preventedMatchId":0,`))
	m := ask(11, `"preventedMatchId":0,`)
	assert.Equal(t, want, m["result"], "by preventedMatchId")
	assert.Equal(t, float64(2), s40weight(t, m)-before, "weight 2 by preventedMatchId")
	before = s40weight(t, m)
	m = ask(12, `"orderId":`+itoa(uint64(taker))+`,`)
	assert.Equal(t, want, m["result"], "by the taker's orderId")
	assert.Equal(t, float64(20), s40weight(t, m)-before, "weight 20 by orderId")
	assert.Equal(t, want, ask(13, `"orderId":`+itoa(uint64(x.maker))+`,`)["result"], "by the maker's orderId")
	assert.Equal(t, []any{}, ask(14, `"orderId":`+itoa(uint64(taker))+`,"fromPreventedMatchId":1,`)["result"], "from past the last")
	assert.Equal(t, want, ask(15, `"orderId":`+itoa(uint64(taker))+`,"fromPreventedMatchId":0,"limit":1,`)["result"])
	assert.Equal(t, []any{}, ask(16, `"preventedMatchId":7,`)["result"], "no such match")
	assert.Equal(t, []any{}, ask(17, `"orderId":99999,`)["result"], "no such order")

	// The unsupported combinations (neither id, both, fromPreventedMatchId
	// without orderId) are refused: -1128 "Combination of optional
	// parameters invalid." ("Error codes").
	for i, params := range []string{``, `"preventedMatchId":0,"orderId":1,`, `"fromPreventedMatchId":0,`, `"preventedMatchId":0,"fromPreventedMatchId":0,`} {
		e, ok := ask(uint64(20+i), params)["error"].(map[string]any)
		require.True(t, ok, params)
		assert.Equal(t, float64(-1128), e["code"], params)
	}
	// An invalid symbol: -1121, weight 2 ("If symbol is invalid"), by
	// orderId too.
	before = s40weight(t, ask(29, `"preventedMatchId":0,`))
	write(t, x.a.c, `{"id":30,"method":"myPreventedMatches","params":{"symbol":"NOPE","orderId":1,"timestamp":1}}`)
	m = x.a.response(30)
	assert.Equal(t, float64(-1121), m["error"].(map[string]any)["code"])
	assert.Equal(t, float64(2), s40weight(t, m)-before, "weight 2 for an invalid symbol")
}
