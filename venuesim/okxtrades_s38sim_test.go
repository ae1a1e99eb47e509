package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// OKX pushes a taker order's fills at one price as one trades message
// (OKX v5 "Trades channel": "The message is sent only once per taker
// order, filled price, source. The count field is used to represent the
// number of aggregated matches"; tradeId "The last trade ID in the trades
// aggregation"; sz the quantity of them all). venuesim pushed one message
// a fill, each with count "1": a take within one level (two fills, two
// resting orders met) came as two prints, where OKX sends one with
// count 2.
func TestS38simOKXTradesAggregatedPerTakerAndPrice(t *testing.T) {
	v, _ := s37Still(t)
	okx := s36OKX(t, v, "trades")
	before := getSnapshot(t, v, "BTCUSDT", 5)
	p0, q0 := before.Asks[0][0], s37Units(t, before.Asks[0][1])
	p1 := before.Asks[1][0]
	a := openAPI(t, v)

	// Within the best ask: two fills at one price, one OKX print.
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"0.00200000","timestamp":1}}`)
	res := a.response(2)["result"].(map[string]any)
	require.Equal(t, [][2]string{{p0, "0.00100000"}, {p0, "0.00100000"}}, s37Fills(res))
	last := res["fills"].([]any)[1].(map[string]any)["tradeId"].(float64)
	o := s36Next(t, okx)["data"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{itoa(uint64(last)), p0, "0.00200000", "buy", "2"},
		[]any{o["tradeId"], o["px"], o["sz"], o["side"], o["count"]}, "one print of the two fills: the last trade id, count 2")

	// A walk of two levels: a print a price, count 1 each.
	rest := q0 - 200_000
	write(t, a.c, `{"id":3,"method":"order.place","params":{"symbol":"BTCUSDT","side":"SELL","type":"MARKET","quantity":"0.00100000","timestamp":1}}`)
	a.response(3)
	s36Next(t, okx) // the sell: one fill within the best bid
	write(t, a.c, `{"id":4,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"`+s37Dec(rest+100_000)+`","timestamp":1}}`)
	res = a.response(4)["result"].(map[string]any)
	require.Equal(t, [][2]string{{p0, s37Dec(rest)}, {p1, "0.00100000"}}, s37Fills(res))
	for i, want := range [][2]string{{p0, s37Dec(rest)}, {p1, "0.00100000"}} {
		id := res["fills"].([]any)[i].(map[string]any)["tradeId"].(float64)
		o = s36Next(t, okx)["data"].([]any)[0].(map[string]any)
		assert.Equal(t, []any{itoa(uint64(id)), want[0], want[1], "1"}, []any{o["tradeId"], o["px"], o["sz"], o["count"]})
	}
}
