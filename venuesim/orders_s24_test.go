package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/venuesim"
)

// WebSocket API "Cancel order" and "Query order": "If both orderId and
// origClientOrderId are provided, the orderId is searched first, then the
// origClientOrderId from that result is checked against that order. If
// both conditions are not met the request will be rejected." A cancel
// naming order A's id and order B's client id cancels neither (-2011);
// the simulator canceled whichever matched first. A query so named finds
// nothing (-2013).
func TestS24BothIDsMustNameOneOrder(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1","newClientOrderId":"a","timestamp":1}}`)
	idA := itoa(uint64(a.response(2)["result"].(map[string]any)["orderId"].(float64)))
	write(t, a.c, `{"id":3,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"101.00","quantity":"1","newClientOrderId":"b","timestamp":1}}`)
	a.response(3)

	write(t, a.c, `{"id":4,"method":"order.status","params":{"symbol":"ETHUSDT","orderId":`+idA+`,"origClientOrderId":"b","timestamp":1}}`)
	assert.Equal(t, float64(-2013), a.response(4)["error"].(map[string]any)["code"], "query: the id's order is not b")
	write(t, a.c, `{"id":5,"method":"order.cancel","params":{"symbol":"ETHUSDT","orderId":`+idA+`,"origClientOrderId":"b","timestamp":1}}`)
	assert.Equal(t, float64(-2011), a.response(5)["error"].(map[string]any)["code"], "cancel: refused, not b canceled")
	write(t, a.c, `{"id":6,"method":"openOrders.status","params":{"symbol":"ETHUSDT","timestamp":1}}`)
	assert.Len(t, a.response(6)["result"], 2, "both orders still open")

	write(t, a.c, `{"id":7,"method":"order.cancel","params":{"symbol":"ETHUSDT","orderId":`+idA+`,"origClientOrderId":"a","timestamp":1}}`)
	assert.Equal(t, "CANCELED", a.response(7)["result"].(map[string]any)["status"], "both naming a: canceled")
}

// A decimal parameter outside Binance's legal range is -1100, "Illegal
// characters found in parameter 'quantity'; legal range is
// '^([0-9]{1,20})(\.[0-9]{1,20})?$'." (errors.md -1100 ILLEGAL_CHARS; the
// message bots report for Python's 5e-05). A negative quantity was taken
// as positive ("-0.5" as 0.5, an order the venue refuses filled by the
// simulator); a sign, an exponent, a lone point are refused alike, price
// and quoteOrderQty too. Too many decimals stays -1111.
func TestS24DecimalsInBinancesLegalRange(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	const legal = `; legal range is '^([0-9]{1,20})(\.[0-9]{1,20})?$'.`
	id := 10
	place := func(params string) map[string]any {
		id++
		write(t, a.c, `{"id":`+itoa(uint64(id))+`,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY",`+params+`,"timestamp":1}}`)
		e, _ := a.response(float64(id))["error"].(map[string]any)
		return e
	}
	for _, q := range []string{"-0.5", "-0", "+1", "5e-05", "1.", ".5", "1,5", " 1", "0x10"} {
		e := place(`"type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"` + q + `"`)
		assert.Equal(t, map[string]any{"code": float64(-1100), "msg": "Illegal characters found in parameter 'quantity'" + legal}, e, "quantity %q", q)
	}
	e := place(`"type":"LIMIT","timeInForce":"GTC","price":"-100","quantity":"1"`)
	assert.Equal(t, map[string]any{"code": float64(-1100), "msg": "Illegal characters found in parameter 'price'" + legal}, e)
	e = place(`"type":"MARKET","quoteOrderQty":"-10"`)
	assert.Equal(t, map[string]any{"code": float64(-1100), "msg": "Illegal characters found in parameter 'quoteOrderQty'" + legal}, e)
	e = place(`"type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"0.123456789"`)
	assert.Equal(t, float64(-1111), e["code"], "too much precision")
	assert.Zero(t, v.Stats().Orders, "no order taken")
}

// Binance spot refuses an id parameter outside its legal range with -1100
// and the range (binance-spot-api-docs pull request #34, a Binance
// maintainer: "Illegal characters found in parameter 'newClientOrderId';
// legal range is '^[a-zA-Z0-9-_]{1,36}$'."; an orderId is
// '^[0-9]{1,20}$'). The simulator took any client id (a bot's 40-character
// or spaced ids passed its tests and failed live) and read a malformed
// orderId as none. (Dots, colons and slashes: TestS25SpotClientIDAlphabet.)
func TestS24IDParametersInLegalRange(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	const cidRange = `; legal range is '^[a-zA-Z0-9-_]{1,36}$'.`
	id := 10
	ask := func(method, params string) map[string]any {
		id++
		write(t, a.c, `{"id":`+itoa(uint64(id))+`,"method":"`+method+`","params":{"symbol":"ETHUSDT",`+params+`"timestamp":1}}`)
		e, _ := a.response(float64(id))["error"].(map[string]any)
		return e
	}
	const limit = `"side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1",`
	for _, cid := range []string{"with space", "x123456789012345678901234567890123456", "é", "a+b"} {
		assert.Equal(t, map[string]any{"code": float64(-1100), "msg": "Illegal characters found in parameter 'newClientOrderId'" + cidRange},
			ask("order.place", limit+`"newClientOrderId":"`+cid+`",`), "newClientOrderId %q", cid)
	}
	assert.Nil(t, ask("order.place", limit+`"newClientOrderId":"ok_id-36-chars-aaaaaaaaaaaaaaaaaaaaa",`), "36 of the legal characters")
	assert.Equal(t, map[string]any{"code": float64(-1100), "msg": "Illegal characters found in parameter 'origClientOrderId'" + cidRange},
		ask("order.cancel", `"origClientOrderId":"my order",`))
	assert.Equal(t, map[string]any{"code": float64(-1100), "msg": "Illegal characters found in parameter 'newClientOrderId'" + cidRange},
		ask("order.cancel", `"origClientOrderId":"ok_id-36-chars-aaaaaaaaaaaaaaaaaaaaa","newClientOrderId":"cancel 1",`))
	assert.Equal(t, map[string]any{"code": float64(-1100), "msg": "Illegal characters found in parameter 'orderId'; legal range is '^[0-9]{1,20}$'."},
		ask("order.cancel", `"orderId":"abc",`))
	assert.Equal(t, map[string]any{"code": float64(-1100), "msg": "Illegal characters found in parameter 'orderId'; legal range is '^[0-9]{1,20}$'."},
		ask("order.status", `"orderId":"-1",`))
	assert.Equal(t, uint64(1), v.Stats().Orders, "only the legal one taken")
}

// The WS-API's request id is "an integer, a string matching
// '^[a-zA-Z0-9-_]{1,36}$', or null"; any other is answered, with id null,
// {"code":-1135,"msg":"Invalid 'id' in JSON request; expected an integer,
// a string matching '^[a-zA-Z0-9-_]{1,36}$', or null."} (status 400), as
// Binance answers a 51-character id. The simulator served such requests:
// a bot's long or dotted ids worked in tests only.
func TestS24APIRequestIDs(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := apiConn{t, dial(t, v.APIURL())}
	for _, id := range []string{`7`, `-7`, `"7d3b9b46-5f4f-4c8b-9a2d-0a8f9a4a0f5b"`, `"a_b"`} {
		write(t, a.c, `{"id":`+id+`,"method":"time"}`)
		m := a.next()
		assert.Equal(t, float64(200), m["status"], "id %s", id)
	}
	write(t, a.c, `{"id":null,"method":"time"}`)
	assert.Equal(t, float64(200), a.next()["status"], "id null")
	for _, id := range []string{`"req-binance-ws-a35ed343-5126-4dda-8914-4fbee7a117f4"`, `"place.1"`, `1.5`, `true`, `""`} {
		write(t, a.c, `{"id":`+id+`,"method":"time"}`)
		assert.Equal(t, map[string]any{"id": nil, "status": float64(400), "error": map[string]any{"code": float64(-1135),
			"msg": "Invalid 'id' in JSON request; expected an integer, a string matching '^[a-zA-Z0-9-_]{1,36}$', or null."}}, withoutLimits(t, a.next()), "id %s", id)
	}
}
