package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// TestS29rvUnsubscribeTerminates: a userDataStream.unsubscribe that ends
// the connection's subscription is answered {} and followed by
// eventStreamTerminated under that subscription's id (Binance "User Data
// Streams", "Event Stream Terminated": "eventStreamTerminated is sent when
// the User Data Stream is stopped. For example, after you send a
// userDataStream.unsubscribe request"). One that ends nothing (no
// subscription, or another id) is answered {} with no event. Before, no
// event was sent.
func TestS29rvUnsubscribeTerminates(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 1, PingInterval: -1})
	defer v.Close()
	a := openAPI(t, v) // subscription 0
	write(t, a.c, `{"id":2,"method":"userDataStream.unsubscribe","params":{"subscriptionId":7}}`)
	assert.Equal(t, map[string]any{}, a.response(2)["result"], "another id: nothing ended")
	write(t, a.c, `{"id":3,"method":"userDataStream.unsubscribe","params":{"subscriptionId":0}}`)
	assert.Equal(t, map[string]any{}, a.next()["result"], "the answer first")
	m := a.next()
	assert.Equal(t, float64(0), m["subscriptionId"])
	ev, ok := m["event"].(map[string]any)
	require.True(t, ok, "%v", m)
	assert.Equal(t, "eventStreamTerminated", ev["e"])
	assert.IsType(t, float64(0), ev["E"])

	// Nothing active: {} and no event; the next message is the answer
	// to the request after it.
	write(t, a.c, `{"id":4,"method":"userDataStream.unsubscribe"}`)
	assert.Equal(t, float64(4), a.next()["id"])
	write(t, a.c, `{"id":5,"method":"ping"}`)
	assert.Equal(t, float64(5), a.next()["id"], "no eventStreamTerminated for a subscription not active")
}

// TestS29rvWSAPIAnswerShapes: every answer of the WS-API methods venuesim
// serves without an order has Binance's documented shape: id, status,
// result (or error {code,msg}), and rateLimits with REQUEST_WEIGHT per
// MINUTE, limit 6000, counting the method's weight (WebSocket API "Rate
// limits"; ping and time 1, userDataStream.subscribe and unsubscribe 2;
// the connection 2).
func TestS29rvWSAPIAnswerShapes(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 1, PingInterval: -1})
	defer v.Close()
	a := apiConn{t, dial(t, v.APIURL())}
	count := 2.0 // the connection's weight
	for i, tc := range []struct {
		req    string
		weight float64
		status float64
		result any // the result, or the error {code, msg}
	}{
		{`{"id":1,"method":"ping"}`, 1, 200, map[string]any{}},
		{`{"id":2,"method":"userDataStream.subscribe"}`, 2, 200, map[string]any{"subscriptionId": float64(0)}},
		{`{"id":3,"method":"userDataStream.subscribe"}`, 2, 400, map[string]any{"code": float64(-2035), "msg": "User Data Stream subscription already active."}},
		{`{"id":4,"method":"userDataStream.unsubscribe"}`, 2, 200, map[string]any{}},
		{`{"id":5,"method":"userDataStream.subscribe"}`, 2, 200, map[string]any{"subscriptionId": float64(1)}},
		{`{"id":6,"method":"v3/ping"}`, 1, 200, map[string]any{}},
	} {
		write(t, a.c, tc.req)
		m := a.response(float64(i + 1))
		count += tc.weight
		assert.Equal(t, tc.status, m["status"], tc.req)
		if tc.status == 200 {
			assert.Equal(t, tc.result, m["result"], tc.req)
		} else {
			assert.Equal(t, tc.result, m["error"], tc.req)
		}
		assert.Equal(t, []any{map[string]any{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": float64(1),
			"limit": float64(6000), "count": count}}, m["rateLimits"], tc.req)
		assert.ElementsMatch(t, []string{"id", "status", "rateLimits", map[bool]string{true: "result", false: "error"}[tc.status == 200]}, keysOf(m), tc.req)
	}
	write(t, a.c, `{"id":7,"method":"time"}`)
	m := a.response(7)
	assert.Equal(t, []string{"serverTime"}, keysOf(m["result"].(map[string]any)))
}
