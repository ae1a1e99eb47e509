package venuesim_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// s36Next reads the next message of c as JSON, within 30 s (a loaded
// machine).
func s36Next(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, msg, err := c.Read(ctx)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(msg, &m))
	return m
}

// s36Step moves clk by d n times, each move taken by the venue's
// generator (asleep on its millisecond again) before the next.
func s36Step(t *testing.T, clk *s29Clock, n int, d time.Duration) {
	t.Helper()
	for range n {
		clk.waitSleeping(t, time.Millisecond, 1)
		clk.Advance(d)
	}
	clk.waitSleeping(t, time.Millisecond, 1)
}

// s36OKX is a connection to v's OKX endpoint subscribed to channel of
// BTC-USDT (the answer read).
func s36OKX(t *testing.T, v *venuesim.Venue, channel string) *websocket.Conn {
	t.Helper()
	c := dial(t, v.OKXURL())
	write(t, c, `{"op":"subscribe","args":[{"channel":"`+channel+`","instId":"BTC-USDT"}]}`)
	require.Equal(t, "subscribe", s36Next(t, c)["event"])
	return c
}

// s36Data is a combined stream message's payload, from the stream named.
func s36Data(t *testing.T, c *websocket.Conn, stream string) map[string]any {
	t.Helper()
	m := s36Next(t, c)
	require.Equal(t, stream, m["stream"], "the next message: %v", m)
	return m["data"].(map[string]any)
}

// Binance prints every trade of a symbol on <symbol>@trade ("Trade
// Streams": "The Trade Streams push raw trade information; each trade has
// a unique buyer and seller"), its own fills included, and aggregates a
// taker order's fills at one price on @aggTrade ("Aggregate Trade
// Streams": "trade information that is aggregated for a single taker
// order"); the trade id `t` is the id the executionReport names in `t`.
// OKX prints them on "trades" (tradeId). venuesim printed only the
// generator's trades: a bot that watches its own prints saw none.
func TestS36simOwnFillsPrintedOnTheTradeStreams(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50, Symbols: []string{"BTCUSDT"}})
	defer v.Close()
	v.Pause(true) // the generator's trades out of the way
	trades := dial(t, v.StreamURL("btcusdt@trade", "btcusdt@aggTrade"))
	okx := s36OKX(t, v, "trades")
	a := openAPI(t, v)

	// A marketable order: two fills, the buyer the taker.
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"0.02000000","timestamp":1}}`)
	a.response(2)
	a.report() // NEW
	r1, r2 := a.report(), a.report()
	for _, r := range []map[string]any{r1, r2} {
		p := s36Data(t, trades, "btcusdt@trade")
		assert.Equal(t, []any{r["t"], r["L"], r["l"], r["T"], false}, []any{p["t"], p["p"], p["q"], p["T"], p["m"]},
			"the fill's print: its trade id, price, quantity, time; the buyer took")
	}
	// OKX prints a taker order's fills at one price once ("Trades
	// channel": "only once per taker order, filled price, source",
	// count the matches, tradeId the last; s38sim).
	o := s36Next(t, okx)["data"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{"BTC-USDT", itoa(uint64(r2["t"].(float64))), r2["L"], "0.02000000", "buy", "2"},
		[]any{o["instId"], o["tradeId"], o["px"], o["sz"], o["side"], o["count"]}, "OKX's print of the fills")
	agg := s36Data(t, trades, "btcusdt@aggTrade")
	assert.Equal(t, []any{r1["t"], r2["t"], "0.02000000", r1["L"], false}, []any{agg["f"], agg["l"], agg["q"], agg["p"], agg["m"]},
		"one aggregate trade: the taker order's fills at one price")

	// A resting order filled: the buyer made the market.
	write(t, a.c, `{"id":3,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"1000.00","quantity":"0.03","timestamp":1}}`)
	id := uint64(a.response(3)["result"].(map[string]any)["orderId"].(float64))
	a.report() // NEW
	require.NoError(t, v.FillOrder(id, "0.01"))
	r := a.report()
	p := s36Data(t, trades, "btcusdt@trade")
	assert.Equal(t, []any{r["t"], "1000.00000000", "0.01000000", true}, []any{p["t"], p["p"], p["q"], p["m"]})
	agg = s36Data(t, trades, "btcusdt@aggTrade")
	assert.Equal(t, []any{r["t"], r["t"], true}, []any{agg["f"], agg["l"], agg["m"]})
	assert.Greater(t, agg["a"], float64(0))
	o = s36Next(t, okx)["data"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{itoa(uint64(r["t"].(float64))), "sell"}, []any{o["tradeId"], o["side"]}, "the taker sold into the resting bid")
}

// A LIMIT order priced at the best ask takes it at once: its fills are
// the taker's (myTrades "isMaker": false, and on @trade the buyer took,
// m false). venuesim called a fill at the order's own price a maker's.
func TestS36simMarketableLimitAtTheAskTakes(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50, Symbols: []string{"BTCUSDT"}})
	defer v.Close()
	v.Pause(true)
	ask := getSnapshot(t, v, "BTCUSDT", 5).Asks[0][0]
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"`+ask+`","quantity":"0.02","timestamp":1}}`)
	id := uint64(a.response(2)["result"].(map[string]any)["orderId"].(float64))
	write(t, a.c, `{"id":3,"method":"myTrades","params":{"symbol":"BTCUSDT","orderId":`+itoa(id)+`,"timestamp":1}}`)
	trades := a.response(3)["result"].([]any)
	require.Len(t, trades, 2)
	for _, x := range trades {
		tr := x.(map[string]any)
		assert.Equal(t, []any{ask, false}, []any{tr["price"], tr["isMaker"]}, "a fill of an order that crossed: the taker's")
	}
}
