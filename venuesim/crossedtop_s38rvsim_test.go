package venuesim_test

import (
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/require"
)

// The bookTicker never names a crossed top: when the generator moves the
// book through our resting buy's price the order fills in the same step,
// before the step's bookTicker goes out ("Individual Symbol Book Ticker
// Streams": the best bid and ask of a book, which a venue's matching
// never leaves crossed). venuesim pushed the step's bookTicker, our buy
// the best bid at or above the generator's best ask, and filled the
// order only after it.
func TestS38rvsimBookTickerNeverCrossed(t *testing.T) {
	v, clk := s37Still(t)
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.CombinedURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	msgs := s34simReader(ctx, t, c)
	s34simSubscribe(ctx, t, c, msgs, "btcusdt@bookTicker")
	a := openAPI(t, v)
	_, lockedBefore := v.Balance("USDT")
	px := getSnapshot(t, v, "BTCUSDT", 5).Bids[0][0]
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"`+px+`","quantity":"1","timestamp":1}}`)
	require.Equal(t, "NEW", a.response(2)["result"].(map[string]any)["status"])
	v.Pause(false)
	filled := false
	for range 20000 { // the book moves down a tick within a few steps
		s36Step(t, clk, 1, time.Millisecond)
		if _, locked := v.Balance("USDT"); locked == lockedBefore {
			filled = true
			break
		}
	}
	require.True(t, filled, "the book never reached the resting buy")
	v.Pause(true)
	s36Step(t, clk, 1, time.Millisecond) // the generator stopped
	// A sentinel: an order resting at the best ask is an update of the
	// book, its id the last, and a bookTicker of its own.
	snap := getSnapshot(t, v, "BTCUSDT", 5)
	write(t, a.c, `{"id":3,"method":"order.place","params":{"symbol":"BTCUSDT","side":"SELL","type":"LIMIT","timeInForce":"GTC","price":"`+snap.Asks[0][0]+`","quantity":"1","timestamp":1}}`)
	require.Equal(t, "NEW", a.response(3)["result"].(map[string]any)["status"])
	type top struct {
		U      uint64 `json:"u"`
		Bid    string `json:"b"`
		BidQty string `json:"B"` // named: a key matches a field of any case
		Ask    string `json:"a"`
		AskQty string `json:"A"`
	}
	seen := 0
	for {
		m := s34simNext(t, msgs)
		if m.Stream != "btcusdt@bookTicker" {
			continue
		}
		var x top
		require.NoError(t, json.Unmarshal(m.Data, &x))
		seen++
		bid, ask := s37Units(t, x.Bid), s37Units(t, x.Ask)
		if bid > 0 && ask > 0 {
			require.Less(t, bid, ask, "bookTicker %d (u %d): a crossed top", seen, x.U)
		}
		if x.U == snap.LastUpdateID+1 {
			break
		}
	}
}
