package venuesim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// TestS34dayReportsOnEverySubscription: Binance sends an account's
// events to each of its user-data subscriptions, one per connection
// (WebSocket API "User Data Stream requests": "You can have only one
// active subscription for a given account on a given connection"). A
// client replacing its connection make-before-break holds two meanwhile:
// a fill made then is told on both, its own subscription id on each. The
// simulator told only the order's own connection, so a fill made as the
// client switched to the new one went out on the old one alone and was
// closed away with it (s34ct TestS34ctBinanceDayCutReportsOnce).
func TestS34dayReportsOnEverySubscription(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v) // the old connection: the order's
	b := openAPI(t, v) // the new one, subscribed
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1","newClientOrderId":"both-1","timestamp":1}}`)
	var id uint64
	require.Eventually(t, func() (ok bool) { id, ok = v.OrderID("both-1"); return ok }, 30*time.Second, time.Millisecond)
	require.NoError(t, v.FillOrder(id, "0.1"))
	for name, c := range map[string]apiConn{"old": a, "new": b} {
		r := c.report()
		assert.Equal(t, []any{"NEW", "both-1"}, []any{r["X"], r["c"]}, "%s connection", name)
		var m map[string]any
		for {
			m = c.next()
			if ev, ok := m["event"].(map[string]any); ok && ev["e"] == "executionReport" {
				break
			}
		}
		r = m["event"].(map[string]any)
		assert.Equal(t, []any{"TRADE", "0.10000000", "0.10000000"}, []any{r["x"], r["l"], r["z"]}, "%s connection", name)
		assert.Equal(t, float64(0), m["subscriptionId"], "%s connection: its own subscription", name)
	}
	assert.Equal(t, uint64(2), v.Stats().ExecReports, "two events, each heard on both subscriptions")
}
