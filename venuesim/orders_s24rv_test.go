package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// An orderId sent is searched first, whatever the origClientOrderId
// beside it names (WebSocket API "Cancel order", "Query order"): an
// orderId in the legal range '^[0-9]{1,20}$' that names no order — 0, or
// one past the largest id — is "Unknown order sent." (-2011) for a cancel
// and "Order does not exist." (-2013) for a query, never the client id's
// order. The simulator read such an orderId as none sent and canceled the
// order the client id named.
func TestS24rvOrderIDNamingNoOrderIsSearched(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1","newClientOrderId":"b","timestamp":1}}`)
	a.response(2)
	id := 10
	for _, oid := range []string{`"0"`, `"99999999999999999999"`, `0`} {
		id++
		write(t, a.c, `{"id":`+itoa(uint64(id))+`,"method":"order.status","params":{"symbol":"ETHUSDT","orderId":`+oid+`,"origClientOrderId":"b","timestamp":1}}`)
		e, _ := a.response(float64(id))["error"].(map[string]any)
		assert.Equal(t, float64(-2013), e["code"], "query orderId %s", oid)
		id++
		write(t, a.c, `{"id":`+itoa(uint64(id))+`,"method":"order.cancel","params":{"symbol":"ETHUSDT","orderId":`+oid+`,"origClientOrderId":"b","timestamp":1}}`)
		e, _ = a.response(float64(id))["error"].(map[string]any)
		assert.Equal(t, float64(-2011), e["code"], "cancel orderId %s", oid)
		id++
		write(t, a.c, `{"id":`+itoa(uint64(id))+`,"method":"order.cancel","params":{"symbol":"ETHUSDT","orderId":`+oid+`,"timestamp":1}}`)
		e, _ = a.response(float64(id))["error"].(map[string]any)
		assert.Equal(t, float64(-2011), e["code"], "cancel orderId %s alone", oid)
	}
	write(t, a.c, `{"id":99,"method":"openOrders.status","params":{"symbol":"ETHUSDT","timestamp":1}}`)
	assert.Len(t, a.response(99)["result"], 1, "b still open")
}

// myTrades of an orderId that names no order ("0", or past uint64) lists
// no trade: the simulator read it as none sent and listed every trade of
// the symbol, which a bot reconciling one order would count as its fills.
func TestS24rvMyTradesOfNoOrder(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := apiConn{t, dial(t, v.APIURL())}
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"1000.00","quantity":"0.03","timestamp":1}}`)
	id := uint64(a.response(2)["result"].(map[string]any)["orderId"].(float64))
	require.NoError(t, v.FillOrder(id, "0.01"))
	write(t, a.c, `{"id":3,"method":"myTrades","params":{"symbol":"BTCUSDT","timestamp":1}}`)
	require.Len(t, a.response(3)["result"], 1, "the symbol's trades")
	for i, oid := range []string{`"0"`, `"99999999999999999999"`} {
		n := float64(10 + i)
		write(t, a.c, `{"id":`+itoa(uint64(n))+`,"method":"myTrades","params":{"symbol":"BTCUSDT","orderId":`+oid+`,"timestamp":1}}`)
		assert.Empty(t, a.response(n)["result"], "orderId %s", oid)
	}
}
