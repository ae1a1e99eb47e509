package venuesim_test

import (
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Our resting orders are in the public book, as a venue shows every
// resting order (Binance "Diff. Depth Stream" and "Order Book", OKX
// "Order book channel": a level's quantity is all the orders at its
// price): a resting buy at a level of the book adds its quantity to the
// level, a resting sell off the book's levels is a level of its own; the
// REST snapshot, the batched diff and OKX's GET books show them, each
// an update of the book, and a cancel takes them out again. venuesim
// left them out: a bot saw no trace of its own quotes in the book.
func TestS38simRestingOrdersInTheDepth(t *testing.T) {
	v, clk := s37Still(t)
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.CombinedURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	msgs := s34simReader(ctx, t, c)
	s34simSubscribe(ctx, t, c, msgs, "btcusdt@depth@100ms")
	before := getSnapshot(t, v, "BTCUSDT", 5000)
	bidPx, bidQty := before.Bids[2][0], s37Units(t, before.Bids[2][1])
	askPx := s37Dec(s37Units(t, before.Asks[0][0]) + 100*1_000_000) // 100 ticks up: past the 50 levels
	for _, l := range before.Asks {
		require.NotEqual(t, askPx, l[0])
	}

	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"`+bidPx+`","quantity":"1","timestamp":1}}`)
	buyID := a.response(2)["result"].(map[string]any)["orderId"].(float64)
	write(t, a.c, `{"id":3,"method":"order.place","params":{"symbol":"BTCUSDT","side":"SELL","type":"LIMIT","timeInForce":"GTC","price":"`+askPx+`","quantity":"0.5","timestamp":1}}`)
	require.Equal(t, "NEW", a.response(3)["result"].(map[string]any)["status"])

	snap := getSnapshot(t, v, "BTCUSDT", 5000)
	assert.Equal(t, before.LastUpdateID+2, snap.LastUpdateID, "each order resting: an update of the book")
	assert.Contains(t, snap.Bids, [2]string{bidPx, s37Dec(bidQty + 100_000_000)}, "the level: the others' and ours")
	assert.Contains(t, snap.Asks, [2]string{askPx, "0.50000000"}, "our sell: a level of its own")
	okxBids, okxAsks, seq := s37OKXBooks(t, v)
	assert.Equal(t, int64(snap.LastUpdateID), seq)
	assert.Equal(t, s37BookOf([][]string{{bidPx, s37Dec(bidQty + 100_000_000)}})[bidPx], okxBids[bidPx], "OKX's book too")
	assert.Equal(t, s37BookOf([][]string{{askPx, "0.50000000"}})[askPx], okxAsks[askPx])

	diff := func() s37Diff {
		s36Step(t, clk, 10, 10*time.Millisecond) // the next 100 ms tick
		m := s34simNext(t, msgs)
		require.Equal(t, "btcusdt@depth@100ms", m.Stream)
		var d s37Diff
		require.NoError(t, json.Unmarshal(m.Data, &d))
		return d
	}
	d := diff()
	assert.Equal(t, []any{before.LastUpdateID + 1, snap.LastUpdateID}, []any{d.First, d.Last})
	assert.Equal(t, [][]string{{bidPx, s37Dec(bidQty + 100_000_000)}}, d.Bids)
	assert.Equal(t, [][]string{{askPx, "0.50000000"}}, d.Asks)

	write(t, a.c, `{"id":4,"method":"order.cancel","params":{"symbol":"BTCUSDT","orderId":`+itoa(uint64(buyID))+`,"timestamp":1}}`)
	require.Equal(t, float64(200), a.response(4)["status"])
	assert.Contains(t, getSnapshot(t, v, "BTCUSDT", 5000).Bids, [2]string{bidPx, s37Dec(bidQty)}, "canceled: the others' only")
	d = diff()
	assert.Equal(t, [][]string{{bidPx, s37Dec(bidQty)}}, d.Bids)
	assert.Empty(t, d.Asks)
}

// A resting order at the best price is in the top the bookTicker names
// ("Individual Symbol Book Ticker Streams": "Pushes any update to the
// best bid or ask's price or quantity"): the best bid's quantity the
// others' and ours, pushed when the order rests and when it is canceled.
func TestS38simRestingOrderInTheBookTicker(t *testing.T) {
	v, _ := s37Still(t)
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.CombinedURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	msgs := s34simReader(ctx, t, c)
	s34simSubscribe(ctx, t, c, msgs, "btcusdt@bookTicker")
	before := getSnapshot(t, v, "BTCUSDT", 5)
	px, q := before.Bids[0][0], s37Units(t, before.Bids[0][1])
	type top struct {
		Bid string `json:"b"`
		Qty string `json:"B"`
	}
	next := func() top {
		m := s34simNext(t, msgs)
		require.Equal(t, "btcusdt@bookTicker", m.Stream)
		var x top
		require.NoError(t, json.Unmarshal(m.Data, &x))
		return x
	}
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"`+px+`","quantity":"1","timestamp":1}}`)
	id := a.response(2)["result"].(map[string]any)["orderId"].(float64)
	assert.Equal(t, top{px, s37Dec(q + 100_000_000)}, next(), "the best bid: the others' and ours")
	write(t, a.c, `{"id":3,"method":"order.cancel","params":{"symbol":"BTCUSDT","orderId":`+itoa(uint64(id))+`,"timestamp":1}}`)
	require.Equal(t, float64(200), a.response(3)["status"])
	assert.Equal(t, top{px, s37Dec(q)}, next(), "canceled: the others' only")
}
