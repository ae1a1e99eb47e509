package venuesim_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// s37Units is a decimal text in 1e-8 units.
func s37Units(t *testing.T, s string) int64 {
	t.Helper()
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + "00000000")[:8]
	w, err := strconv.ParseInt(whole, 10, 64)
	require.NoError(t, err)
	f, err := strconv.ParseInt(frac, 10, 64)
	require.NoError(t, err)
	return w*100_000_000 + f
}

// s37Dec is 1e-8 units as the venue prints them, eight decimals.
func s37Dec(v int64) string { return fmt.Sprintf("%d.%08d", v/100_000_000, v%100_000_000) }

// s37Still is a venue on a fake clock whose generator is paused: the book
// holds still but for our orders.
func s37Still(t *testing.T) (*venuesim.Venue, *s29Clock) {
	t.Helper()
	v, clk := s34simStart(t, "BTCUSDT")
	v.Pause(true)
	return v, clk
}

// s37Fills are a FULL answer's fills as [price, qty] texts.
func s37Fills(res map[string]any) [][2]string {
	var out [][2]string
	for _, f := range res["fills"].([]any) {
		m := f.(map[string]any)
		out = append(out, [2]string{m["price"].(string), m["qty"].(string)})
	}
	return out
}

// A taker order takes the liquidity it fills against, as the venue's
// matching does: a market buy larger than the best ask's quantity takes
// that level whole and the rest from the next, each at its price; the
// book, the REST snapshot, the bookTicker and the batched depth diff show
// the levels taken. venuesim filled any quantity at the best ask and left
// the book as it was: a bot saw its own fills and the same liquidity
// still there.
func TestS37simTakerConsumesTheBook(t *testing.T) {
	v, clk := s37Still(t)
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.CombinedURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	msgs := s34simReader(ctx, t, c)
	s34simSubscribe(ctx, t, c, msgs, "btcusdt@bookTicker", "btcusdt@depth@100ms")
	before := getSnapshot(t, v, "BTCUSDT", 5000)
	p0, q0 := before.Asks[0][0], s37Units(t, before.Asks[0][1])
	p1, q1 := before.Asks[1][0], s37Units(t, before.Asks[1][1])
	extra := int64(100_000) // 0.001: every level holds at least that
	qty := s37Dec(q0 + extra)

	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"`+qty+`","timestamp":1}}`)
	res := a.response(2)["result"].(map[string]any)
	assert.Equal(t, "FILLED", res["status"])
	assert.Equal(t, [][2]string{{p0, s37Dec(q0)}, {p1, s37Dec(extra)}}, s37Fills(res),
		"the best ask's quantity at its price, the rest at the next level's")

	after := getSnapshot(t, v, "BTCUSDT", 5000)
	assert.Equal(t, before.LastUpdateID+1, after.LastUpdateID, "one update of the book")
	assert.Equal(t, [2]string{p1, s37Dec(q1 - extra)}, after.Asks[0], "the best ask taken, the next one less what was taken")
	assert.Equal(t, before.Bids, after.Bids, "the bids untouched")

	bt := s34simNext(t, msgs)
	require.Equal(t, "btcusdt@bookTicker", bt.Stream)
	var top struct {
		U   uint64 `json:"u"`
		Ask string `json:"a"`
		Qty string `json:"A"`
	}
	require.NoError(t, json.Unmarshal(bt.Data, &top))
	assert.Equal(t, []any{after.LastUpdateID, p1, s37Dec(q1 - extra)}, []any{top.U, top.Ask, top.Qty}, "the new best ask at once")

	s36Step(t, clk, 10, 10*time.Millisecond) // the next 100 ms tick
	m := s34simNext(t, msgs)
	require.Equal(t, "btcusdt@depth@100ms", m.Stream)
	var d s37Diff
	require.NoError(t, json.Unmarshal(m.Data, &d))
	assert.Equal(t, []any{after.LastUpdateID, after.LastUpdateID}, []any{d.First, d.Last})
	assert.Equal(t, [][]string{{p0, "0.00000000"}, {p1, s37Dec(q1 - extra)}}, d.Asks, "the diff: the level taken, the level left")
	assert.Empty(t, d.Bids)
}

// What a marketable order cannot take at once, by its time in force: a
// FOK order takes nothing and expires, an IOC order takes what its price
// reaches and expires with the rest, a GTC order takes it and rests with
// the rest (Binance spot "Enums", "Order status": EXPIRED for "LIMIT FOK
// orders with no fill, LIMIT IOC or MARKET orders that partially fill").
// venuesim filled each whole at the best ask, whatever the book held.
func TestS37simTakerLimitedByTheBook(t *testing.T) {
	for _, tc := range []struct {
		tif, status string
		took        bool // it took the best ask
		rests       bool
	}{
		{"FOK", "EXPIRED", false, false},
		{"IOC", "EXPIRED", true, false},
		{"GTC", "PARTIALLY_FILLED", true, true},
	} {
		t.Run(tc.tif, func(t *testing.T) {
			v, _ := s37Still(t)
			before := getSnapshot(t, v, "BTCUSDT", 5)
			p0, q0 := before.Asks[0][0], s37Units(t, before.Asks[0][1])
			qty := s37Dec(q0 + 100_000) // more than the best ask holds, priced at it
			a := openAPI(t, v)
			write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"`+tc.tif+`","price":"`+p0+`","quantity":"`+qty+`","timestamp":1}}`)
			res := a.response(2)["result"].(map[string]any)
			assert.Equal(t, tc.status, res["status"])
			after := getSnapshot(t, v, "BTCUSDT", 5)
			r := a.report()
			assert.Equal(t, "NEW", r["x"])
			if tc.took {
				assert.Equal(t, s37Dec(q0), res["executedQty"])
				assert.NotEqual(t, p0, after.Asks[0][0], "the best ask taken")
				for _, want := range []string{"PARTIALLY_FILLED", "PARTIALLY_FILLED"} {
					r = a.report()
					assert.Equal(t, []any{"TRADE", want, p0}, []any{r["x"], r["X"], r["L"]})
				}
			} else {
				assert.Equal(t, "0.00000000", res["executedQty"])
				assert.Equal(t, before, after, "a FOK order that cannot fill takes nothing")
			}
			if !tc.rests {
				r = a.report()
				assert.Equal(t, []any{"EXPIRED", "EXPIRED"}, []any{r["x"], r["X"]})
				return
			}
			write(t, a.c, `{"id":3,"method":"openOrders.status","params":{"symbol":"BTCUSDT","timestamp":1}}`)
			open := a.response(3)["result"].([]any)
			require.Len(t, open, 1, "the rest rests")
			assert.Equal(t, []any{"PARTIALLY_FILLED", s37Dec(q0)}, []any{open[0].(map[string]any)["status"], open[0].(map[string]any)["executedQty"]})
		})
	}
}
