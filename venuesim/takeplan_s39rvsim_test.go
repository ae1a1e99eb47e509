package venuesim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A taker's walk that runs past the grid's last level meets our resting
// order beyond it, as the public book lists it (bookLevels does): a
// MARKET SELL larger than every bid of the grid, EXPIRE_TAKER, stops at
// our BUY there. venuesim's walk ended at the grid's last level.
func TestS39rvsimTakePlanMeetsOursPastTheGrid(t *testing.T) {
	const levels = 10
	s := newMarket([]string{"BTCUSDT"}, levels, 39).symbols[0]
	rest := func(id uint64, px int64) {
		s.orders = append(s.orders, &order{id: id, symbol: s, side: "BUY", typ: "LIMIT", price: px, qty: one / 100})
		s.setOwn(true, px)
	}
	near, far := s.bestBid-3*s.tick, s.bestBid-(levels+4)*s.tick
	rest(1, near)
	rest(2, far)
	var total int64
	for _, q := range s.bids {
		total += q
	}
	took := func(plan []fillPlan) (n int64) {
		for _, f := range plan {
			n += f.qty
		}
		return n
	}
	// EXPIRE_MAKER meets each of ours on its way, the last past the grid.
	o := &order{symbol: s, side: "SELL", typ: "MARKET", qty: total + one, stp: "EXPIRE_MAKER"}
	plan, meets, stopped := takePlan(o)
	assert.False(t, stopped)
	require.Len(t, meets, 2, "both of ours met")
	assert.Equal(t, []int64{near, far}, []int64{meets[0].maker.price, meets[1].maker.price})
	assert.Equal(t, total, took(plan), "every grid bid taken")
	assert.Equal(t, len(plan), meets[1].at, "ours past the grid met after every fill")

	// EXPIRE_TAKER with only the far one resting: the walk takes the grid
	// and stops at it.
	s.orders = s.orders[1:]
	s.setOwn(true, near)
	o.stp = "EXPIRE_TAKER"
	plan, meets, stopped = takePlan(o)
	require.True(t, stopped, "our BUY at %d met", far)
	require.Len(t, meets, 1)
	assert.Equal(t, far, meets[0].maker.price)
	assert.Equal(t, total, took(plan))
}
