package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// s39stp is a quiet venue with one of our orders resting: a BUY of
// 0.001 at the second best bid, p1. q0 and q1 are the generator's
// quantities at the best bid p0 and at p1, p2 the third bid's price.
type s39stp struct {
	v          *venuesim.Venue
	a          apiConn
	p0, p1, p2 string
	q0, q1     int64
	maker      float64 // the resting order's id
}

func s39stpStart(t *testing.T) *s39stp {
	t.Helper()
	v, _ := s37Still(t)
	before := getSnapshot(t, v, "BTCUSDT", 5)
	x := &s39stp{v: v, a: openAPI(t, v), p0: before.Bids[0][0], p1: before.Bids[1][0], p2: before.Bids[2][0],
		q0: s37Units(t, before.Bids[0][1]), q1: s37Units(t, before.Bids[1][1])}
	write(t, x.a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"`+x.p1+`","quantity":"0.00100000","selfTradePreventionMode":"EXPIRE_TAKER","timestamp":1}}`)
	res := x.a.response(2)["result"].(map[string]any)
	require.Equal(t, "NEW", res["status"])
	x.maker = res["orderId"].(float64)
	require.Equal(t, "NEW", x.a.report()["X"])
	return x
}

// sell places a MARKET sell of q0 + q1 + 0.002 with the STP mode (none
// when ""): it takes the generator's quantity at p0 and p1 and then meets
// our own order at p1. It returns the FULL answer's result.
func (x *s39stp) sell(t *testing.T, mode string) map[string]any {
	t.Helper()
	stp := ""
	if mode != "" {
		stp = `,"selfTradePreventionMode":"` + mode + `"`
	}
	write(t, x.a.c, `{"id":3,"method":"order.place","params":{"symbol":"BTCUSDT","side":"SELL","type":"MARKET","quantity":"`+s37Dec(x.q0+x.q1+200_000)+`"`+stp+`,"timestamp":1}}`)
	return x.a.response(3)["result"].(map[string]any)
}

// reportsUntil reads executionReports until the one with X status of
// order id, returning those of id on the way.
func (x *s39stp) reportsUntil(id float64, status string) []map[string]any {
	var got []map[string]any
	for {
		r := x.a.report()
		if r["i"] == id {
			got = append(got, r)
			if r["X"] == status {
				return got
			}
		}
	}
}

// stpFields are an executionReport's STP members (spot "User Data
// Stream", "Order Update": v preventedMatchId, U counterOrderId, A
// preventedQuantity, B lastPreventedQuantity, V selfTradePreventionMode).
func stpFields(r map[string]any) []any {
	return []any{r["x"], r["X"], r["v"], r["U"], r["A"], r["B"], r["V"]}
}

// Binance spot's self-trade prevention (spot "Self Trade Prevention (STP)
// FAQ"; exchangeInfo: BTCUSDT "defaultSelfTradePreventionMode":
// "EXPIRE_MAKER", "allowedSelfTradePreventionModes": ["EXPIRE_TAKER",
// "EXPIRE_MAKER","EXPIRE_BOTH",…]): "EXPIRE_TAKER - This mode prevents a
// trade by immediately expiring the taker order's remaining quantity";
// the order's status EXPIRED_IN_MATCH, its report's execution type
// TRADE_PREVENTION. venuesim let a taker walk past our own resting order
// (no STP: "our own orders are not matched against each other").
func TestS39simSTPExpireTaker(t *testing.T) {
	x := s39stpStart(t)
	res := x.sell(t, "EXPIRE_TAKER")
	assert.Equal(t, "EXPIRED_IN_MATCH", res["status"])
	assert.Equal(t, [][2]string{{x.p0, s37Dec(x.q0)}, {x.p1, s37Dec(x.q1)}}, s37Fills(res), "the generator's quantity before ours, then nothing")
	assert.Equal(t, "0.00200000", res["preventedQuantity"])
	assert.Equal(t, "EXPIRE_TAKER", res["selfTradePreventionMode"])
	assert.Equal(t, []any{map[string]any{"preventedMatchId": float64(0), "makerOrderId": x.maker, "price": x.p1, "takerPreventedQuantity": "0.00200000"}},
		res["preventedMatches"])
	taker := res["orderId"].(float64)
	reps := x.reportsUntil(taker, "EXPIRED_IN_MATCH")
	assert.Equal(t, []any{"TRADE_PREVENTION", "EXPIRED_IN_MATCH", float64(0), x.maker, "0.00200000", "0.00200000", "EXPIRE_TAKER"}, stpFields(reps[len(reps)-1]))
	assert.Len(t, reps, 4, "NEW, two fills, the prevention")

	// The maker rests on, untouched.
	write(t, x.a.c, `{"id":4,"method":"order.status","params":{"symbol":"BTCUSDT","orderId":`+itoa(uint64(x.maker))+`,"timestamp":1}}`)
	assert.Equal(t, "NEW", x.a.response(4)["result"].(map[string]any)["status"])
	write(t, x.a.c, `{"id":5,"method":"order.status","params":{"symbol":"BTCUSDT","orderId":`+itoa(uint64(taker))+`,"timestamp":1}}`)
	st := x.a.response(5)["result"].(map[string]any)
	assert.Equal(t, []any{"EXPIRED_IN_MATCH", float64(0), "0.00200000"}, []any{st["status"], st["preventedMatchId"], st["preventedQuantity"]})
}

// "EXPIRE_MAKER - This mode prevents a trade by immediately expiring the
// potential maker order's remaining quantity": our resting order expires
// (EXPIRED_IN_MATCH, TRADE_PREVENTION, counterOrderId the taker), leaves
// the book, and the taker walks on to the next level. It is the mode of
// an order that names none (BTCUSDT's defaultSelfTradePreventionMode).
func TestS39simSTPExpireMaker(t *testing.T) {
	for _, mode := range []string{"EXPIRE_MAKER", ""} {
		t.Run("mode="+mode, func(t *testing.T) {
			x := s39stpStart(t)
			res := x.sell(t, mode)
			assert.Equal(t, "FILLED", res["status"])
			assert.Equal(t, "EXPIRE_MAKER", res["selfTradePreventionMode"])
			assert.Equal(t, [][2]string{{x.p0, s37Dec(x.q0)}, {x.p1, s37Dec(x.q1)}, {x.p2, "0.00200000"}}, s37Fills(res))
			assert.Nil(t, res["preventedQuantity"], "the taker prevented none of its own")
			assert.Equal(t, []any{map[string]any{"preventedMatchId": float64(0), "makerOrderId": x.maker, "price": x.p1, "makerPreventedQuantity": "0.00100000"}},
				res["preventedMatches"])
			taker := res["orderId"].(float64)
			reps := x.reportsUntil(x.maker, "EXPIRED_IN_MATCH")
			assert.Equal(t, []any{"TRADE_PREVENTION", "EXPIRED_IN_MATCH", float64(0), taker, "0.00100000", "0.00100000", "EXPIRE_TAKER"}, stpFields(reps[len(reps)-1]),
				"the maker's report names its own mode")
			reps = x.reportsUntil(taker, "FILLED")
			assert.Equal(t, "EXPIRE_MAKER", reps[0]["V"])
			after := getSnapshot(t, x.v, "BTCUSDT", 5)
			assert.Equal(t, x.p2, after.Bids[0][0], "p0 and p1 taken, our order gone: p2 is the best bid")
			write(t, x.a.c, `{"id":4,"method":"openOrders.status","params":{"symbol":"BTCUSDT","timestamp":1}}`)
			assert.Empty(t, x.a.response(4)["result"])
		})
	}
}

// "EXPIRE_BOTH - This mode prevents a trade by immediately expiring both
// the taker and the potential maker orders' remaining quantities."
func TestS39simSTPExpireBoth(t *testing.T) {
	x := s39stpStart(t)
	res := x.sell(t, "EXPIRE_BOTH")
	assert.Equal(t, "EXPIRED_IN_MATCH", res["status"])
	assert.Equal(t, [][2]string{{x.p0, s37Dec(x.q0)}, {x.p1, s37Dec(x.q1)}}, s37Fills(res))
	assert.Equal(t, "0.00200000", res["preventedQuantity"])
	assert.Equal(t, []any{map[string]any{"preventedMatchId": float64(0), "makerOrderId": x.maker, "price": x.p1,
		"takerPreventedQuantity": "0.00200000", "makerPreventedQuantity": "0.00100000"}}, res["preventedMatches"])
	taker := res["orderId"].(float64)
	reps := x.reportsUntil(x.maker, "EXPIRED_IN_MATCH")
	assert.Equal(t, []any{"TRADE_PREVENTION", "EXPIRED_IN_MATCH", float64(0), taker, "0.00100000", "0.00100000", "EXPIRE_TAKER"}, stpFields(reps[len(reps)-1]))
	reps = x.reportsUntil(taker, "EXPIRED_IN_MATCH")
	assert.Equal(t, []any{"TRADE_PREVENTION", "EXPIRED_IN_MATCH", float64(0), x.maker, "0.00200000", "0.00200000", "EXPIRE_BOTH"}, stpFields(reps[len(reps)-1]))
	write(t, x.a.c, `{"id":4,"method":"openOrders.status","params":{"symbol":"BTCUSDT","timestamp":1}}`)
	assert.Empty(t, x.a.response(4)["result"])
}

// The symbol's STP modes as exchangeInfo lists them (BTCUSDT's: the
// default EXPIRE_MAKER, NONE not allowed); a mode it does not allow is
// refused (STP FAQ: -1013 "This symbol does not allow the specified
// self-trade prevention mode.").
func TestS39simSTPModesListedAndChecked(t *testing.T) {
	v, _ := s37Still(t)
	info, err := httpGetJSON(v.RESTURL() + "/api/v3/exchangeInfo")
	require.NoError(t, err)
	sym := info["symbols"].([]any)[0].(map[string]any)
	assert.Equal(t, "EXPIRE_MAKER", sym["defaultSelfTradePreventionMode"])
	assert.Equal(t, []any{"EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"}, sym["allowedSelfTradePreventionModes"])
	a := openAPI(t, v)
	for i, mode := range []string{"NONE", "DECREMENT", "expire_maker", "BOGUS"} {
		id := uint64(2 + i)
		write(t, a.c, `{"id":`+itoa(id)+`,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"0.00100000","selfTradePreventionMode":"`+mode+`","timestamp":1}}`)
		e := a.response(float64(id))["error"].(map[string]any)
		assert.Equal(t, []any{float64(-1013), "This symbol does not allow the specified self-trade prevention mode."}, []any{e["code"], e["msg"]}, mode)
	}
}
