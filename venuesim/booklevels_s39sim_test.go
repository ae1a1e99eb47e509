package venuesim

import (
	"cmp"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// s39Book is a BTCUSDT book of levels a side, some levels empty and our
// resting orders at prices on and off the grid, both sides.
func s39Book(levels int) *symbolState {
	m := newMarket([]string{"BTCUSDT"}, levels, 39)
	s := m.symbols[0]
	for i := 3; i < levels; i += 7 {
		s.bids[i], s.asks[i] = 0, 0 // levels a walk emptied
	}
	for k, d := range []int64{-2, 0, 3, 5, int64(levels) + 4} {
		for _, buy := range []bool{true, false} {
			px := s.bestAsk() + d*s.tick
			side := "SELL"
			if buy {
				px, side = s.bestBid-d*s.tick, "BUY"
			}
			s.orders = append(s.orders, &order{id: uint64(k + 1), symbol: s, side: side, price: px, qty: one / 100})
			s.setOwn(buy, px)
		}
	}
	return s
}

// s39BookLevelsWhole is bookLevels as it was: every level of the grid
// read, our resting orders' quantity added by price, best first, then
// cut to n — the reference the proportional walk must equal. (It sums
// the orders themselves: ownbook.go's mergeOwn, the old merge, is gone.)
func s39BookLevelsWhole(s *symbolState, bidSide bool, n int) []level {
	qty := map[int64]int64{}
	for i := 0; i < len(s.bids); i++ {
		if bidSide {
			qty[s.bestBid-int64(i)*s.tick] += s.bids[i]
		} else {
			qty[s.bestAsk()+int64(i)*s.tick] += s.asks[i]
		}
	}
	for _, o := range s.orders {
		if (o.side == "BUY") == bidSide {
			qty[o.price] += o.qty - o.filled
		}
	}
	var out []level
	for px, q := range qty {
		if q > 0 {
			out = append(out, level{px, q})
		}
	}
	slices.SortFunc(out, func(a, b level) int {
		if bidSide {
			return cmp.Compare(b.price, a.price)
		}
		return cmp.Compare(a.price, b.price)
	})
	return out[:min(n, len(out))]
}

// bookLevels reads only as far as the n levels asked, and lists what the
// whole grid's walk listed: the same levels, ours merged in, best first.
func TestS39simBookLevelsAsTheWholeWalk(t *testing.T) {
	for _, levels := range []int{1, 10, 100} {
		s := s39Book(levels)
		for _, buy := range []bool{true, false} {
			for _, n := range []int{0, 1, 2, 5, 9, 20, 100, 1000} {
				require.Equal(t, fmt.Sprint(s39BookLevelsWhole(s, buy, n)), fmt.Sprint(bookLevels(s, buy, n)), "levels %d buy %v n %d", levels, buy, n)
			}
		}
	}
}

// The REST snapshot's and the partial streams' cost: n levels of a
// 5000-level side.
func BenchmarkS39simBookLevels(b *testing.B) {
	s := s39Book(5000)
	for _, n := range []int{5, 20, 100, 5000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = bookLevels(s, true, n)
			}
		})
	}
}
