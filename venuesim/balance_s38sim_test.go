package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// An order may not be worth more than Options.Balance, and a MARKET
// order is worth what its walk takes: each level at its own price. The
// check took the best ask's price times the quantity, so that a market
// buy walking up the asks spent more than the balance allowed. With a
// balance of exactly 100 × the best ask (67000.01, the venue's start),
// a market buy of 100 BTC walks past the best ask (no level holds 100)
// and is refused; one within the best ask's quantity fills.
func TestS38simWalkHeldToTheBalance(t *testing.T) {
	clk := newS29Clock(s34simT0)
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 10000, PingInterval: -1, MaxConnAge: -1,
		IncomingLimit: -1, Clock: clk, Balance: 6_700_001})
	t.Cleanup(v.Close)
	v.Pause(true) // the clock never moved: the book is the start's
	book := getSnapshot(t, v, "BTCUSDT", 5)
	require.Equal(t, "67000.01000000", book.Asks[0][0])
	require.Less(t, s37Units(t, book.Asks[0][1]), int64(100*100_000_000))

	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"100","timestamp":1}}`)
	res := a.response(2)
	assert.Equal(t, float64(400), res["status"], "the walk costs more than the balance: %v", res)
	assert.Equal(t, map[string]any{"code": float64(-2010), "msg": "Account has insufficient balance for requested action."}, res["error"])
	assert.Equal(t, book, getSnapshot(t, v, "BTCUSDT", 5), "nothing taken")

	write(t, a.c, `{"id":3,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"`+book.Asks[0][1]+`","timestamp":1}}`)
	res = a.response(3)
	require.Equal(t, float64(200), res["status"], "%v", res)
	assert.Equal(t, "FILLED", res["result"].(map[string]any)["status"])
}
