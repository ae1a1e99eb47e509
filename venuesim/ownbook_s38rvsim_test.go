package venuesim

import (
	"cmp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// BenchmarkS38rvsimStepWithRestingOrders is the generator's step with n
// resting orders of ours on the symbol, half each side, far from the
// book (none fills): what the public book's own quantities (ownQty,
// publicTop, withOwn) cost a step.
func BenchmarkS38rvsimStepWithRestingOrders(b *testing.B) {
	for _, n := range []int{0, 10, 100, 1000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			v := Start(&Options{Symbols: []string{"BTCUSDT"}, Rate: 100, PingInterval: -1, MaxConnAge: -1,
				IncomingLimit: -1, Clock: s34rvsimStopped{time.Date(2031, 3, 4, 5, 6, 0, 0, time.UTC)}})
			b.Cleanup(v.Close)
			s := v.mkt.symbols[0]
			v.mkt.mu.Lock()
			for i := range n {
				o := &order{symbol: s, side: "BUY", price: s.bestBid - int64(1_000_000+i)*s.tick, qty: one}
				if i%2 == 1 {
					o.side, o.price = "SELL", s.bestAsk()+int64(1_000_000+i)*s.tick
				}
				s.orders = append(s.orders, o)
				s.noteOwn(o, 0)
			}
			v.mkt.mu.Unlock()
			now := v.now()
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			b.ResetTimer()
			v.stepping.Lock()
			for range b.N {
				buf = v.step(buf[:0], now)
			}
			v.stepping.Unlock()
		})
	}
}

// The own levels (ownBids, ownAsks) the public book reads are what the
// resting orders have left, by price, best first, after every kind of
// change: two orders resting at one price, a partial fill (FillOrder),
// a cancel, an expiry (EndOrder) and a full fill. They are kept by
// noteOwn; a change that bypassed it would leave a level the public book
// shows but no order holds.
func TestS38rvsimOwnLevelsFollowTheOrders(t *testing.T) {
	v := s34rvsimStoppedVenue(t, 1) // the generator never steps on its own
	s := v.mkt.symbols[0]
	c, ctx := s38simAPI(t, v)
	check := func(step string) {
		t.Helper()
		v.mkt.mu.Lock()
		defer v.mkt.mu.Unlock()
		for _, buy := range []bool{true, false} {
			byPrice := map[int64]int64{}
			for _, o := range s.orders {
				if (o.side == "BUY") == buy {
					byPrice[o.price] += o.qty - o.filled
				}
			}
			var want []level
			for p, q := range byPrice {
				want = append(want, level{p, q})
			}
			slices.SortFunc(want, func(x, y level) int {
				if buy {
					return cmp.Compare(y.price, x.price)
				}
				return cmp.Compare(x.price, y.price)
			})
			assert.Equal(t, want, slices.Clip(*s.ownSide(buy)), "%s: buy %v", step, buy)
		}
	}
	place := func(id int, side, price, qty string) uint64 {
		res := s38simCall(ctx, t, c, id, "order.place", `{"symbol":"S0USDT","side":"`+side+`","type":"LIMIT","timeInForce":"GTC","price":"`+price+`","quantity":"`+qty+`","timestamp":1}`)
		require.Equal(t, "NEW", res["result"].(map[string]any)["status"], "%v", res)
		return uint64(res["result"].(map[string]any)["orderId"].(float64))
	}
	a := place(2, "BUY", "9.9000", "1")
	check("one buy")
	b := place(3, "BUY", "9.9000", "2")
	place(4, "BUY", "9.8000", "1")
	place(5, "SELL", "10.2000", "1")
	d := place(6, "SELL", "10.1000", "3")
	check("two at one price")
	require.NoError(t, v.FillOrder(b, "0.5"))
	check("a partial fill")
	s38simCall(ctx, t, c, 7, "order.cancel", `{"symbol":"S0USDT","orderId":`+strconv.FormatUint(a, 10)+`,"timestamp":1}`)
	check("a cancel")
	require.NoError(t, v.EndOrder(d, "EXPIRED"))
	check("an expiry")
	require.NoError(t, v.FillOrder(b, "1.5"))
	check("a full fill")
}
