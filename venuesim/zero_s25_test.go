package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/venuesim"
)

// A quantity of zero is Binance's -1013 "Invalid quantity." (as bots
// report it: "BUY QTY 0.0 … APIError(code=-1013): Invalid quantity."),
// a price of zero -1013 "Invalid price."; the simulator answered -1102
// "Mandatory parameter … was not sent", which tells a bot its request
// lacked a field it did send.
func TestS25ZeroAmountsAreInvalid(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	id := 10
	place := func(params string) map[string]any {
		id++
		write(t, a.c, `{"id":`+itoa(uint64(id))+`,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY",`+params+`,"timestamp":1}}`)
		e, _ := a.response(float64(id))["error"].(map[string]any)
		return e
	}
	for _, q := range []string{"0", "0.00000000"} {
		assert.Equal(t, map[string]any{"code": float64(-1013), "msg": "Invalid quantity."},
			place(`"type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"`+q+`"`), "quantity %s", q)
		assert.Equal(t, map[string]any{"code": float64(-1013), "msg": "Invalid quantity."},
			place(`"type":"MARKET","quantity":"`+q+`"`), "market quantity %s", q)
		assert.Equal(t, map[string]any{"code": float64(-1013), "msg": "Invalid price."},
			place(`"type":"LIMIT","timeInForce":"GTC","price":"`+q+`","quantity":"1"`), "price %s", q)
	}
	assert.Zero(t, v.Stats().Orders)
}
