package venuesim_test

import (
	"fmt"
	"testing"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// The ORDERS limit counts unfilled orders (spot "Unfilled Order Count
// Rules": "When an order is filled for the first time (partially or
// fully), your unfilled order count is decremented by one order for all
// intervals of the ORDERS rate limit"; "Canceling an order does not
// change the unfilled order count"; "once the unfilled order count is
// down to zero, additional fills will not decrease it further").
// venuesim counted every order placed: a bot whose market orders all
// filled was refused its 51st in the 10 s (-1015).
func TestS39simFilledOrdersLeaveTheUnfilledCount(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1, EnforceRateLimits: true, Clock: clk,
		PingInterval: -1, MaxConnAge: -1, IncomingLimit: -1})
	t.Cleanup(v.Close)
	v.Pause(true)
	c := dial(t, v.APIURL())
	answer := func(id int, params string) limitAnswer {
		write(t, c, fmt.Sprintf(`{"id":%d,"method":"order.place","params":{"symbol":"BTCUSDT",%s,"timestamp":1}}`, id, params))
		var a limitAnswer
		require.NoError(t, json.Unmarshal(read(t, c), &a))
		return a
	}
	const market = `"side":"BUY","type":"MARKET","quantity":"0.00100000"`
	for i := 1; i <= 60; i++ {
		a := answer(i, market)
		require.Equal(t, 200, a.Status, "order %d: %+v", i, a.Error)
		assert.LessOrEqual(t, a.count("ORDERS", "SECOND"), int64(1), "order %d: the filled ones before it do not count", i)
	}
	// A resting order, never filled, counts.
	a := answer(61, `"side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"60000.00000000","quantity":"0.00100000"`)
	require.Equal(t, 200, a.Status, "%+v", a.Error)
	a = answer(62, `"side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"60000.00000000","quantity":"0.00100000"`)
	assert.Equal(t, int64(2), a.count("ORDERS", "SECOND"), "two resting, unfilled")
	assert.Equal(t, int64(2), a.count("ORDERS", "DAY"))
}
