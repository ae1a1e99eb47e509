package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// s39rvInside is a quiet venue whose generator's best ask level a market
// buy emptied (its quantity taken whole): pA0, the old best ask's price,
// is a price the public book shows empty, between the generator's best
// bid pB0 and its new best ask pA1. An order of ours at pA0 rests there,
// better than any of the generator's on its side.
type s39rvInside struct {
	*s39stp
	pA0, pA1, pB0 string
}

func s39rvInsideStart(t *testing.T) *s39rvInside {
	t.Helper()
	v, _ := s37Still(t)
	before := getSnapshot(t, v, "BTCUSDT", 5)
	x := &s39rvInside{s39stp: &s39stp{v: v, a: openAPI(t, v)}, pA0: before.Asks[0][0], pA1: before.Asks[1][0], pB0: before.Bids[0][0]}
	write(t, x.a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"`+before.Asks[0][1]+`","timestamp":1}}`)
	require.Equal(t, "FILLED", x.a.response(2)["result"].(map[string]any)["status"])
	after := getSnapshot(t, v, "BTCUSDT", 5)
	require.Equal(t, []string{x.pA1, x.pB0}, []string{after.Asks[0][0], after.Bids[0][0]}, "the best ask level taken whole")
	return x
}

// rest places a GTC LIMIT order of 0.001 at px that rests (NEW) and
// returns its id.
func (x *s39rvInside) rest(t *testing.T, id uint64, side, px string) float64 {
	t.Helper()
	write(t, x.a.c, `{"id":`+itoa(id)+`,"method":"order.place","params":{"symbol":"BTCUSDT","side":"`+side+`","type":"LIMIT","timeInForce":"GTC","price":"`+px+`","quantity":"0.00100000","timestamp":1}}`)
	res := x.a.response(float64(id))["result"].(map[string]any)
	require.Equal(t, "NEW", res["status"])
	return res["orderId"].(float64)
}

// place sends order.place with params and returns the answer's result.
func (x *s39rvInside) place(t *testing.T, id uint64, params string) map[string]any {
	t.Helper()
	write(t, x.a.c, `{"id":`+itoa(id)+`,"method":"order.place","params":{"symbol":"BTCUSDT",`+params+`,"timestamp":1}}`)
	m := x.a.response(float64(id))
	require.NotNil(t, m["result"], "%v", m)
	return m["result"].(map[string]any)
}

// STP FAQ, Scenarios B, D and E: a LIMIT order that reaches our own
// resting order of the other side — and nobody else's — is a taker that
// meets it, and the taker's STP mode decides. venuesim asked only the
// generator's top whether a LIMIT order crosses: with our SELL alone at
// pA0 (the generator's best ask level taken), a BUY at pA0 rested beside
// it — a crossed public book, no prevention, the SELL never met.
func TestS39rvsimSTPLimitMeetsOurOrderAlone(t *testing.T) {
	t.Run("EXPIRE_MAKER", func(t *testing.T) {
		x := s39rvInsideStart(t)
		maker := x.rest(t, 3, "SELL", x.pA0)
		res := x.place(t, 4, `"side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"`+x.pA0+`","quantity":"0.00200000"`)
		assert.Equal(t, "NEW", res["status"], "the maker expired, nothing else at pA0: the taker rests (Scenario B)")
		assert.Empty(t, res["fills"])
		assert.Equal(t, []any{map[string]any{"preventedMatchId": float64(0), "makerOrderId": maker, "price": x.pA0, "makerPreventedQuantity": "0.00100000"}},
			res["preventedMatches"])
		reps := x.reportsUntil(maker, "EXPIRED_IN_MATCH")
		assert.Equal(t, "TRADE_PREVENTION", reps[len(reps)-1]["x"])
		snap := getSnapshot(t, x.v, "BTCUSDT", 5)
		assert.Equal(t, [][2]string{{x.pA0, "0.00200000"}, {x.pA1, snap.Asks[0][1]}}, [][2]string{{snap.Bids[0][0], snap.Bids[0][1]}, {snap.Asks[0][0], snap.Asks[0][1]}},
			"our BUY the best bid, the generator's pA1 the best ask: not crossed")
		assert.Equal(t, x.pA1, snap.Asks[0][0])
	})
	t.Run("EXPIRE_BOTH", func(t *testing.T) {
		x := s39rvInsideStart(t)
		maker := x.rest(t, 3, "SELL", x.pA0)
		res := x.place(t, 4, `"side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"`+x.pA0+`","quantity":"0.00200000","selfTradePreventionMode":"EXPIRE_BOTH"`)
		assert.Equal(t, "EXPIRED_IN_MATCH", res["status"], "Scenario D")
		assert.Equal(t, "0.00200000", res["preventedQuantity"])
		assert.Equal(t, []any{map[string]any{"preventedMatchId": float64(0), "makerOrderId": maker, "price": x.pA0,
			"takerPreventedQuantity": "0.00200000", "makerPreventedQuantity": "0.00100000"}}, res["preventedMatches"])
		write(t, x.a.c, `{"id":5,"method":"openOrders.status","params":{"symbol":"BTCUSDT","timestamp":1}}`)
		assert.Empty(t, x.a.response(5)["result"], "both expired")
	})
}

// A MARKET order's walk meets our resting order where the public book has
// it: at pA0, a better bid than any of the generator's. venuesim walked
// the generator's levels only: a MARKET SELL with EXPIRE_TAKER filled at
// pB0, trading through our own better bid, instead of expiring at it.
func TestS39rvsimSTPMarketMeetsOurBetterOrderFirst(t *testing.T) {
	t.Run("EXPIRE_TAKER", func(t *testing.T) {
		x := s39rvInsideStart(t)
		maker := x.rest(t, 3, "BUY", x.pA0)
		res := x.place(t, 4, `"side":"SELL","type":"MARKET","quantity":"0.00200000","selfTradePreventionMode":"EXPIRE_TAKER"`)
		assert.Equal(t, "EXPIRED_IN_MATCH", res["status"])
		assert.Empty(t, res["fills"], "our BUY at pA0 is met before the generator's pB0")
		assert.Equal(t, []any{map[string]any{"preventedMatchId": float64(0), "makerOrderId": maker, "price": x.pA0, "takerPreventedQuantity": "0.00200000"}},
			res["preventedMatches"])
	})
	t.Run("EXPIRE_MAKER", func(t *testing.T) {
		x := s39rvInsideStart(t)
		maker := x.rest(t, 3, "BUY", x.pA0)
		res := x.place(t, 4, `"side":"SELL","type":"MARKET","quantity":"0.00200000"`)
		assert.Equal(t, "FILLED", res["status"])
		assert.Equal(t, [][2]string{{x.pB0, "0.00200000"}}, s37Fills(res), "our BUY expired, then the generator's pB0")
		assert.Equal(t, []any{map[string]any{"preventedMatchId": float64(0), "makerOrderId": maker, "price": x.pA0, "makerPreventedQuantity": "0.00100000"}},
			res["preventedMatches"])
		reps := x.reportsUntil(maker, "EXPIRED_IN_MATCH")
		assert.Equal(t, "TRADE_PREVENTION", reps[len(reps)-1]["x"])
	})
}

// A LIMIT_MAKER order at our own resting order's price would match it
// (WebSocket API "Place new order": LIMIT_MAKER orders "will be rejected
// if they would immediately match and trade as a taker"): refused,
// -2010. venuesim rested it beside ours, the public book crossed.
func TestS39rvsimLimitMakerAtOurOrderRefused(t *testing.T) {
	x := s39rvInsideStart(t)
	x.rest(t, 3, "SELL", x.pA0)
	write(t, x.a.c, `{"id":4,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT_MAKER","price":"`+x.pA0+`","quantity":"0.00100000","timestamp":1}}`)
	e, ok := x.a.response(4)["error"].(map[string]any)
	require.True(t, ok, "refused")
	assert.Equal(t, []any{float64(-2010), "Order would immediately match and take."}, []any{e["code"], e["msg"]})
	snap := getSnapshot(t, x.v, "BTCUSDT", 5)
	assert.Equal(t, []string{x.pB0, x.pA0}, []string{snap.Bids[0][0], snap.Asks[0][0]}, "not crossed")
}
