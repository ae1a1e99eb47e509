package venuesim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// An order placed on a WS-API connection with no user-data subscription
// of its own, while another connection of the account holds one (a
// client that trades on one connection and listens on another): Binance
// sends the account's events to each of its subscriptions (WebSocket API
// "User Data Stream requests"), wherever the order came from. The venue
// sent the account positions there (accountChanged) but not the reports
// before them (execReportIDs returned when the order's connection had no
// subscription): the listener heard its balances move with no order to
// explain it. It now hears the report, then the position.
func TestS35rvsimReportsReachOtherSubscriptions(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	b := openAPI(t, v)                   // the listener
	a := apiConn{t, dial(t, v.APIURL())} // trades, no subscription
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1","newClientOrderId":"other-1","timestamp":1}}`)
	assert.Equal(t, float64(200), a.response(2)["status"])
	var id uint64
	require.Eventually(t, func() (ok bool) { id, ok = v.OrderID("other-1"); return ok }, 30*time.Second, time.Millisecond)
	require.NoError(t, v.FillOrder(id, "0.1"))
	for _, want := range []string{"NEW", "PARTIALLY_FILLED"} {
		var ev map[string]any
		for ev == nil {
			if e, ok := b.next()["event"].(map[string]any); ok {
				ev = e
			}
		}
		require.Equal(t, "executionReport", ev["e"], "the %s report first: %v", want, ev)
		assert.Equal(t, want, ev["X"])
		assert.Equal(t, "other-1", ev["c"])
		m := b.next()
		e, _ := m["event"].(map[string]any)
		assert.Equal(t, "outboundAccountPosition", e["e"], "after the %s report: %v", want, m)
	}
}
