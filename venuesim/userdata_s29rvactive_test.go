package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// TestS29rvUserDataAlreadyActive: Binance takes one user-data
// subscription an account a connection ("You can have only one active
// subscription for a given account on a given connection", WS-API "User
// Data Stream requests",
// https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/user-data-stream-requests)
// and refuses another with -2035 SUBSCRIPTION_ACTIVE "User Data Stream
// subscription already active." (spot "Error codes"); the first stays in
// effect with its subscriptionId. After an unsubscribe a new one is
// taken, numbered on. Another connection has its own. Before, the second
// replaced the first.
func TestS29rvUserDataAlreadyActive(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 1, PingInterval: -1})
	defer v.Close()
	a := openAPI(t, v) // subscriptionId 0
	for i, req := range []string{
		`{"id":2,"method":"userDataStream.subscribe"}`,
		`{"id":3,"method":"userDataStream.subscribe.signature","params":{"apiKey":"k","timestamp":1,"signature":"s"}}`,
	} {
		write(t, a.c, req)
		resp := withoutLimits(t, a.response(float64(2+i)))
		assert.Equal(t, map[string]any{"id": float64(2 + i), "status": float64(400),
			"error": map[string]any{"code": float64(-2035), "msg": "User Data Stream subscription already active."}}, resp, req)
	}
	// The first subscription is still the one in effect: its reports
	// carry subscriptionId 0.
	write(t, a.c, `{"id":4,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1","newClientOrderId":"still-0","timestamp":1}}`)
	for {
		m := a.next()
		if ev, ok := m["event"].(map[string]any); ok && ev["e"] == "executionReport" {
			assert.Equal(t, float64(0), m["subscriptionId"], "the first subscription's id")
			break
		}
	}
	write(t, a.c, `{"id":5,"method":"userDataStream.unsubscribe"}`)
	assert.Equal(t, float64(200), a.response(5)["status"])
	write(t, a.c, `{"id":6,"method":"userDataStream.subscribe"}`)
	resp := withoutLimits(t, a.response(6))
	assert.Equal(t, map[string]any{"subscriptionId": float64(1)}, resp["result"], "taken after the unsubscribe, numbered on")

	b := openAPI(t, v) // its own subscription 0 on another connection
	_ = b
	subs := v.UserDataSubscriptions()
	require.Len(t, subs, 5)
	assert.Equal(t, []bool{true, false, false, true, true}, []bool{subs[0].Accepted, subs[1].Accepted, subs[2].Accepted, subs[3].Accepted, subs[4].Accepted})
	assert.Equal(t, []int{0, -2035, -2035, 0, 0}, []int{subs[0].Code, subs[1].Code, subs[2].Code, subs[3].Code, subs[4].Code})
}
