package venuesim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Binance sends every event of an account to each of its user-data
// subscriptions (WebSocket API "User Data Stream requests": one
// subscription an account and connection; "User Data Streams": an
// outboundAccountPosition "is sent any time an account balance has
// changed"). The execution reports went to every subscription, the
// account positions after them only to the order's connection: a client
// replacing its connection make-before-break, or a second process on the
// account, heard the fill but never the balance it moved. Each
// subscription now hears both, the report and then the position.
func TestS35simAccountPositionOnEverySubscription(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v) // the order's connection
	b := openAPI(t, v) // another subscription of the account
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1","newClientOrderId":"pos-1","timestamp":1}}`)
	var id uint64
	require.Eventually(t, func() (ok bool) { id, ok = v.OrderID("pos-1"); return ok }, 30*time.Second, time.Millisecond)
	require.NoError(t, v.FillOrder(id, "0.1"))
	for name, c := range map[string]apiConn{"order's": a, "other": b} {
		for _, want := range []string{"NEW", "PARTIALLY_FILLED"} {
			var ev map[string]any
			for {
				m := c.next()
				if e, ok := m["event"].(map[string]any); ok && e["e"] == "executionReport" {
					ev = e
					break
				}
			}
			require.Equal(t, want, ev["X"], "%s connection", name)
			m := c.next()
			e, _ := m["event"].(map[string]any)
			assert.Equal(t, "outboundAccountPosition", e["e"], "%s connection, after the %s report: %v", name, want, m)
			assert.Equal(t, float64(0), m["subscriptionId"], "%s connection: its own subscription", name)
		}
	}
}
