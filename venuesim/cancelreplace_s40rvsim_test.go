package venuesim_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/goccy/go-json"
	"github.com/meltica/meltica/venuesim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A signed order.cancelReplace ("Cancel and replace order" is a SIGNED
// request) is checked once, as the request it is: its steps are not
// checked again over parameter sets the client never signed. venuesim
// checked the cancel's and the new order's parameters (renamed, split)
// against the request's signature, so on a venue with a secret every
// signed cancelReplace failed -2022 with both steps -1022. The steps'
// execution reports follow in order: the CANCELED, then the NEW.
func TestS40rvsimCancelReplaceSigned(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50, APIKey: "key", APISecret: "secret"})
	defer v.Close()
	a := openAPI(t, v)
	// until reads to request id's answer, the reports on the way kept.
	var reports []map[string]any
	until := func(id float64) map[string]any {
		for {
			m := a.next()
			if ev, ok := m["event"].(map[string]any); ok && ev["e"] == "executionReport" {
				reports = append(reports, ev)
			}
			if m["id"] == id {
				return m
			}
		}
	}
	send := func(id int, method string, params map[string]string) map[string]any {
		params["apiKey"] = "key"
		params["timestamp"] = strconv.FormatInt(time.Now().UnixMilli(), 10)
		params["signature"] = sign("secret", params)
		body, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
		require.NoError(t, err)
		write(t, a.c, string(body))
		return until(float64(id))
	}
	m := send(2, "order.place", map[string]string{"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
		"price": "99999", "quantity": "0.001", "newClientOrderId": "old"})
	require.Equal(t, float64(200), m["status"], "%v", m)
	for len(reports) < 1 {
		reports = append(reports, a.report())
	}
	require.Equal(t, "NEW", reports[0]["X"])
	reports = nil

	m = send(3, "order.cancelReplace", map[string]string{"symbol": "BTCUSDT", "cancelReplaceMode": "STOP_ON_FAILURE",
		"cancelOrigClientOrderId": "old", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
		"price": "99998", "quantity": "0.001", "newClientOrderId": "new"})
	require.Equal(t, float64(200), m["status"], "%v", m)
	res := m["result"].(map[string]any)
	assert.Equal(t, []any{"SUCCESS", "SUCCESS"}, []any{res["cancelResult"], res["newOrderResult"]})
	for len(reports) < 2 { // reports and answers share the connection, in no promised order
		reports = append(reports, a.report())
	}
	got := make([][2]any, 0, len(reports))
	for _, r := range reports {
		got = append(got, [2]any{r["X"], r["c"]})
	}
	assert.Equal(t, [][2]any{{"CANCELED", res["cancelResponse"].(map[string]any)["clientOrderId"]}, {"NEW", "new"}}, got,
		"the cancel's report, then the new order's")
	assert.Equal(t, "old", reports[0]["C"])

	// A bad signature is refused plainly, neither step tried.
	params := map[string]string{"apiKey": "key", "symbol": "BTCUSDT", "cancelReplaceMode": "ALLOW_FAILURE",
		"cancelOrigClientOrderId": "new", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "price": "99997",
		"quantity": "0.001", "timestamp": strconv.FormatInt(time.Now().UnixMilli(), 10)}
	params["signature"] = sign("wrong", params)
	body, err := json.Marshal(map[string]any{"id": 4, "method": "order.cancelReplace", "params": params})
	require.NoError(t, err)
	write(t, a.c, string(body))
	m = a.response(4)
	assert.Equal(t, map[string]any{"code": float64(-1022), "msg": "Signature for this request is not valid."}, m["error"])
}

// A cancelReplace naming its cancel by a malformed id is a bad request,
// refused plainly with -1100 naming the parameter the client sent
// (cancelOrderId, cancelOrigClientOrderId, cancelNewClientOrderId), as
// order.cancel's -1100 names its own; neither step tried. venuesim
// answered 400 -2022 with the cancel step's -1100 naming orderId, a
// parameter the request never had.
func TestS40rvsimCancelReplaceMalformedID(t *testing.T) {
	v, _ := s37Still(t)
	a := openAPI(t, v)
	order := `"side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"1","quantity":"0.00100000",`
	for i, c := range []struct{ params, msg string }{
		{`"cancelOrderId":"12a",`, "Illegal characters found in parameter 'cancelOrderId'; legal range is '^[0-9]{1,20}$'."},
		{`"cancelOrigClientOrderId":"a.b",`, "Illegal characters found in parameter 'cancelOrigClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'."},
		{`"cancelOrderId":1,"cancelNewClientOrderId":"a:b",`, "Illegal characters found in parameter 'cancelNewClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'."},
	} {
		id := uint64(10 + i)
		write(t, a.c, `{"id":`+itoa(id)+`,"method":"order.cancelReplace","params":{"symbol":"BTCUSDT","cancelReplaceMode":"ALLOW_FAILURE",`+c.params+order+`"timestamp":1}}`)
		m := a.response(float64(id))
		assert.Equal(t, float64(400), m["status"], c.params)
		assert.Equal(t, map[string]any{"code": float64(-1100), "msg": c.msg}, m["error"], c.params)
	}
	write(t, a.c, `{"id":20,"method":"openOrders.status","params":{"timestamp":1}}`)
	assert.Empty(t, a.response(20)["result"], "nothing placed")
}
