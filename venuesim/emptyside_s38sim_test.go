package venuesim

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
	jsonv2 "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// s38simAPI is a WS-API connection to v (no user-data subscription: it
// reads its answers only) and a 60 s failure guard.
func s38simAPI(t *testing.T, v *Venue) (*websocket.Conn, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // failure guard only
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, v.APIURL(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c, ctx
}

// s38simCall sends a WS-API request (method and params) as id and
// returns its answer.
func s38simCall(ctx context.Context, t *testing.T, c *websocket.Conn, id int, method, params string) map[string]any {
	t.Helper()
	req := `{"id":` + strconv.Itoa(id) + `,"method":"` + method + `","params":` + params + `}`
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(req)))
	for {
		_, b, err := c.Read(ctx)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, jsonv2.Unmarshal(b, &m))
		if m["id"] == float64(id) {
			return m
		}
	}
}

// A taker order that walks a whole side of the book leaves that side
// empty: no best level to trade against. venuesim's best ask (or bid)
// was then the grid's first price with quantity 0: the bookTicker named
// a price with nothing there, a resting order priced through it was
// filled against nothing on the generator's next step, the generator
// traded there (a print at a price no order held), and a LIMIT_MAKER
// order at that price was refused as one that would take. Now an empty
// side is no level: the bookTicker says 0 and 0 (price and quantity),
// nothing fills or trades against it, and a LIMIT_MAKER there rests.
func TestS38simWalkedSideIsEmpty(t *testing.T) {
	for _, side := range []string{"BUY", "SELL"} {
		t.Run(side, func(t *testing.T) {
			v := s34rvsimStoppedVenue(t, 1) // the generator never steps on its own
			m := v.mkt
			s := m.symbols[0]
			walked := func() []int64 {
				if side == "BUY" {
					return s.asks
				}
				return s.bids
			}
			m.mu.Lock()
			var total int64
			for _, q := range walked() {
				total += q
			}
			edge := s.bestAsk() // the walked side's first price
			if side == "SELL" {
				edge = s.bestBid
			}
			m.mu.Unlock()
			price, maker := "20.0000", "10.0001" // beyond the whole side; the LIMIT_MAKER at the walked side's first price
			if side == "SELL" {
				price, maker = "5.0000", "10.0000"
			}
			require.Equal(t, maker, string(fmtDec(nil, edge))[:len(maker)])
			c, ctx := s38simAPI(t, v)
			res := s38simCall(ctx, t, c, 2, "order.place", `{"symbol":"S0USDT","side":"`+side+`","type":"LIMIT","timeInForce":"GTC","price":"`+price+`","quantity":"`+string(fmtDec(nil, total+lotStep*100))+`","timestamp":1}`)
			require.Equal(t, "PARTIALLY_FILLED", res["result"].(map[string]any)["status"], "the whole side taken, the rest rests: %v", res)

			m.mu.Lock() // read under the lock, asserted after it (a failure ends the test: Close takes it)
			left := slices.Clone(walked())
			top := string(v.fills.appendBookTicker(nil, s))
			m.mu.Unlock()
			require.Equal(t, make([]int64, len(left)), left, "every level taken")
			if side == "BUY" {
				assert.Contains(t, top, `"a":"0.00000000","A":"0.00000000"`, "no best ask: the bookTicker names no price")
			} else {
				assert.Contains(t, top, `"b":"0.00000000","B":"0.00000000"`, "no best bid: the bookTicker names no price")
			}

			// The generator's step fills the resting orders the market
			// reached: an empty side reaches none.
			v.fillResting(s)
			m.mu.Lock()
			var states []string
			for _, o := range s.orders {
				states = append(states, o.status)
			}
			m.mu.Unlock()
			assert.Equal(t, []string{"PARTIALLY_FILLED"}, states, "the rest of the order not filled against nothing")

			res = s38simCall(ctx, t, c, 3, "order.place", `{"symbol":"S0USDT","side":"`+side+`","type":"LIMIT_MAKER","price":"`+maker+`","quantity":"1","timestamp":1}`)
			assert.Equal(t, float64(200), res["status"], "nothing to take at the emptied side's price: it rests (%v)", res)
			// Our orders out of the way: the generator's trades only.
			m.mu.Lock()
			var ids []uint64
			for _, o := range s.orders {
				ids = append(ids, o.id)
			}
			m.mu.Unlock()
			for i, id := range ids {
				res = s38simCall(ctx, t, c, 4+i, "order.cancel", `{"symbol":"S0USDT","orderId":`+strconv.FormatUint(id, 10)+`,"timestamp":1}`)
				require.Equal(t, float64(200), res["status"], "%v", res)
			}

			// The generator's trades while the side is empty (emptied
			// again before each step: the generator refills it) are the
			// other side's.
			var against []bool // each trade's: against the other side
			for range 200 {
				v.stepping.Lock()
				m.mu.Lock()
				clear(walked())
				id, bestBid := s.tradeID, s.bestBid
				m.mu.Unlock()
				v.step(nil, v.now())
				m.mu.Lock()
				if s.tradeID != id {
					against = append(against, side == "BUY" && s.day.close <= bestBid || side == "SELL" && s.day.close > bestBid)
				}
				m.mu.Unlock()
				v.stepping.Unlock()
			}
			require.NotEmpty(t, against, "the generator traded")
			assert.NotContains(t, against, false, "a trade at the emptied side's price, against nothing")
		})
	}
}
