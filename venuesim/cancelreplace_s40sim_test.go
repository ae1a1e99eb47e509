package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Binance spot WS-API "Cancel and replace order" (order.cancelReplace):
// cancel an order (cancelOrderId / cancelOrigClientOrderId) and place a
// new one; cancelReplaceMode STOP_ON_FAILURE places nothing when the
// cancel fails, ALLOW_FAILURE places all the same. Both succeed: 200,
// result {cancelResult, newOrderResult, cancelResponse (order.cancel's
// shape), newOrderResponse (order.place's)}. One fails: 409, -2021
// "Order cancel-replace partially failed.", error.data the same four
// members, the failed one's response {code, msg}. Both fail, or the cancel
// under STOP_ON_FAILURE: 400, -2022 "Order cancel-replace failed.",
// newOrderResult NOT_ATTEMPTED and newOrderResponse null when not tried.
// "This cancel-replace operation is not transactional": a cancel that
// succeeded stays. venuesim answered -1100, an unknown method.
func TestS40simCancelReplace(t *testing.T) {
	x := s39stpStart(t) // our BUY 0.001 rests at p1
	a := x.a
	replace := func(id uint64, mode, cancel, order string) map[string]any {
		write(t, a.c, `{"id":`+itoa(id)+`,"method":"order.cancelReplace","params":{"symbol":"BTCUSDT","cancelReplaceMode":"`+mode+`",`+cancel+order+`"timestamp":1}}`)
		return a.response(float64(id))
	}
	rest := `"side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"` + x.p2 + `","quantity":"0.00100000",`
	crossing := `"side":"SELL","type":"LIMIT_MAKER","price":"` + x.p2 + `","quantity":"0.00100000",`
	open := func(id uint64) []any {
		write(t, a.c, `{"id":`+itoa(id)+`,"method":"openOrders.status","params":{"symbol":"BTCUSDT","timestamp":1}}`)
		return a.response(float64(id))["result"].([]any)
	}
	errData := func(m map[string]any) (status, code any, data map[string]any) {
		e, ok := m["error"].(map[string]any)
		require.True(t, ok, "an error: %v", m)
		data, _ = e["data"].(map[string]any)
		return m["status"], e["code"], data
	}
	unknown := map[string]any{"code": float64(-2011), "msg": "Unknown order sent."}
	wouldTake := map[string]any{"code": float64(-2010), "msg": "Order would immediately match and take."}

	// Both succeed.
	m := replace(10, "STOP_ON_FAILURE", `"cancelOrderId":`+itoa(uint64(x.maker))+`,"cancelNewClientOrderId":"cxl-1",`, rest+`"newClientOrderId":"new-1",`)
	require.Equal(t, float64(200), m["status"], "%v", m)
	res := m["result"].(map[string]any)
	assert.Equal(t, []any{"SUCCESS", "SUCCESS"}, []any{res["cancelResult"], res["newOrderResult"]})
	cr, nr := res["cancelResponse"].(map[string]any), res["newOrderResponse"].(map[string]any)
	assert.Equal(t, []any{x.maker, "CANCELED", "cxl-1"}, []any{cr["orderId"], cr["status"], cr["clientOrderId"]})
	assert.Equal(t, []any{"NEW", "new-1", x.p2}, []any{nr["status"], nr["clientOrderId"], nr["price"]})
	assert.Contains(t, nr, "fills", "LIMIT answers FULL by default")
	newID := nr["orderId"]
	left := open(11)
	require.Len(t, left, 1)
	assert.Equal(t, newID, left[0].(map[string]any)["orderId"])

	// STOP_ON_FAILURE, the cancel fails: nothing placed, and yet "A new
	// order that was not attempted ... will still increase the unfilled
	// order count by 1".
	was := s40orders(t, m)
	m = replace(12, "STOP_ON_FAILURE", `"cancelOrderId":`+itoa(uint64(x.maker))+`,`, rest)
	assert.Equal(t, was+1, s40orders(t, m), "the ORDERS 10 s count")
	st, code, data := errData(m)
	assert.Equal(t, []any{float64(400), float64(-2022)}, []any{st, code})
	assert.Equal(t, map[string]any{"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED", "cancelResponse": unknown, "newOrderResponse": nil}, data)
	assert.Len(t, open(13), 1, "nothing placed")

	// ALLOW_FAILURE, the cancel fails, the new order is placed.
	st, code, data = errData(replace(14, "ALLOW_FAILURE", `"cancelOrderId":`+itoa(uint64(x.maker))+`,`, rest))
	assert.Equal(t, []any{float64(409), float64(-2021)}, []any{st, code})
	require.NotNil(t, data)
	assert.Equal(t, []any{"FAILURE", "SUCCESS", unknown}, []any{data["cancelResult"], data["newOrderResult"], data["cancelResponse"]})
	assert.Equal(t, "NEW", data["newOrderResponse"].(map[string]any)["status"])
	assert.Len(t, open(15), 2, "placed")

	// ALLOW_FAILURE, both fail.
	st, code, data = errData(replace(16, "ALLOW_FAILURE", `"cancelOrigClientOrderId":"nope",`, crossing))
	assert.Equal(t, []any{float64(400), float64(-2022)}, []any{st, code})
	assert.Equal(t, map[string]any{"cancelResult": "FAILURE", "newOrderResult": "FAILURE", "cancelResponse": unknown, "newOrderResponse": wouldTake}, data)

	// The cancel succeeds, the new order fails: the cancel stays.
	st, code, data = errData(replace(17, "STOP_ON_FAILURE", `"cancelOrigClientOrderId":"new-1",`, crossing))
	assert.Equal(t, []any{float64(409), float64(-2021)}, []any{st, code})
	require.NotNil(t, data)
	assert.Equal(t, []any{"SUCCESS", "FAILURE", wouldTake}, []any{data["cancelResult"], data["newOrderResult"], data["newOrderResponse"]})
	assert.Equal(t, newID, data["cancelResponse"].(map[string]any)["orderId"])
	assert.Len(t, open(18), 1, "not transactional: canceled")

	// cancelReplaceMode is mandatory, and one of the two.
	_, code, _ = errData(replace(19, "", `"cancelOrderId":1,`, rest))
	assert.Equal(t, float64(-1102), code)
	_, code, _ = errData(replace(20, "BOGUS", `"cancelOrderId":1,`, rest))
	assert.Equal(t, float64(-1100), code)
	assert.Len(t, open(21), 1, "neither refusal touched an order")
}

// s40orders is the ORDERS 10-second count an answer reports.
func s40orders(t *testing.T, m map[string]any) float64 {
	t.Helper()
	for _, l := range m["rateLimits"].([]any) {
		if l := l.(map[string]any); l["rateLimitType"] == "ORDERS" && l["interval"] == "SECOND" {
			return l["count"].(float64)
		}
	}
	require.FailNow(t, "no ORDERS 10 s in", "%v", m)
	return 0
}

// A cancelReplace whose request is bad as a whole (an unknown symbol, no
// order to cancel named) is refused as a bad request is, plainly (-1121,
// -1102 naming the cancel's parameters), not as two failed steps
// (-2022, whose data would name order.cancel's orderId).
func TestS40simCancelReplaceBadRequest(t *testing.T) {
	v, _ := s37Still(t)
	a := openAPI(t, v)
	order := `"side":"BUY","type":"MARKET","quantity":"0.00100000",`
	for i, c := range []struct {
		params string
		code   float64
		msg    string
	}{
		{`"symbol":"NOPE","cancelOrderId":1,`, -1121, "Invalid symbol."},
		{`"symbol":"BTCUSDT",`, -1102, "Param 'cancelOrigClientOrderId' or 'cancelOrderId' must be sent, but both were empty/null!"},
	} {
		id := uint64(10 + i)
		write(t, a.c, `{"id":`+itoa(id)+`,"method":"order.cancelReplace","params":{"cancelReplaceMode":"ALLOW_FAILURE",`+c.params+order+`"timestamp":1}}`)
		m := a.response(float64(id))
		e, ok := m["error"].(map[string]any)
		require.True(t, ok, "%v", m)
		assert.Equal(t, map[string]any{"code": c.code, "msg": c.msg}, e, c.params)
	}
	write(t, a.c, `{"id":20,"method":"openOrders.status","params":{"timestamp":1}}`)
	assert.Empty(t, a.response(20)["result"], "nothing placed")
}
