package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/venuesim"
)

// Binance WebSocket API, "Request format": "Request method names may be
// prefixed with explicit version: e.g., "v3/order.place"". The simulator
// refused every such request (-1100 on 'method'), so a client that names
// the version could not be tested against it.
func TestS25VersionedMethodNames(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"v3/time"}`)
	assert.Equal(t, float64(200), a.response(2)["status"])
	write(t, a.c, `{"id":3,"method":"v3/order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"0.01","timestamp":1}}`)
	m := a.response(3)
	assert.Equal(t, float64(200), m["status"], "%v", m)
	assert.Len(t, m["rateLimits"], 3, "an order placement's limits")
	write(t, a.c, `{"id":4,"method":"v2/time"}`)
	assert.Equal(t, float64(400), a.response(4)["status"], "no other version is served")
	assert.Equal(t, uint64(1), v.Stats().Orders)
}
