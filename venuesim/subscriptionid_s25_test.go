package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Binance WebSocket API, "User Data Stream requests": "Subscriptions are
// identified by a subscriptionId which is returned when starting the
// subscription. That subscriptionId allows you to map the events you
// receive to a given subscription" — a session's subscriptions are
// numbered from 0 ("A single session can handle a maximum of 65,535 total
// subscriptions over its lifetime"), and userDataStream.unsubscribe with
// a subscriptionId closes that one. The simulator answered 0 to every
// subscription of a connection, so a client that maps events by id, or
// that drops events of a subscription it ended, was never tested.
func TestS25SubscriptionIDsCount(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := apiConn{t, dial(t, v.APIURL())}
	subscribe := func(id int) float64 {
		t.Helper()
		write(t, a.c, `{"id":`+itoa(uint64(id))+`,"method":"userDataStream.subscribe"}`)
		m := a.response(float64(id))
		require.Equal(t, float64(200), m["status"], "%v", m)
		return m["result"].(map[string]any)["subscriptionId"].(float64)
	}
	assert.Equal(t, float64(0), subscribe(1))
	write(t, a.c, `{"id":2,"method":"userDataStream.unsubscribe","params":{"subscriptionId":0}}`)
	assert.Equal(t, float64(200), a.response(2)["status"])
	assert.Equal(t, float64(1), subscribe(3), "the session's second subscription")

	write(t, a.c, `{"id":4,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"0.01","timestamp":1}}`)
	for {
		m := a.next()
		if ev, ok := m["event"].(map[string]any); ok && ev["e"] == "executionReport" {
			assert.Equal(t, float64(1), m["subscriptionId"], "events name the subscription they belong to")
			break
		}
	}
	write(t, a.c, `{"id":5,"method":"userDataStream.unsubscribe"}`)
	assert.Equal(t, float64(200), a.response(5)["status"])
	assert.Equal(t, float64(2), subscribe(6))
	assert.Equal(t, 1, v.TerminateUserData())
	for {
		m := a.next()
		if ev, ok := m["event"].(map[string]any); ok && ev["e"] == "eventStreamTerminated" {
			assert.Equal(t, float64(2), m["subscriptionId"])
			break
		}
	}
}
