package venuesim

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The best bid and ask always have a quantity: Binance's bookTicker never
// names a best level with none. A level emptied deep in the book
// ("quantities change on a few levels") reached the top when the price
// moved it there, and the venue sent a bookTicker of quantity 0 (a 20 s
// session of the simulated venue saw 135 of them). Over many moves of a
// small book the top levels stay filled, and a book kept from the diffs
// alone (as a client keeps it) holds them as the venue's does.
func TestS34simBookTopNeverEmpty(t *testing.T) {
	m := newMarket([]string{"BTCUSDT"}, 8, 1)
	s := m.symbols[0]
	bidBook, askBook := map[int64]int64{}, map[int64]int64{} // price → quantity, from the diffs
	for i := range s.bids {
		bidBook[s.bestBid-int64(i)*s.tick] = s.bids[i]
		askBook[s.bestAsk()+int64(i)*s.tick] = s.asks[i]
	}
	for i := range 200_000 {
		bids, asks, _, _ := m.moveBook(s, false, false)
		for _, l := range bids {
			bidBook[l.price] = l.qty
		}
		for _, l := range asks {
			askBook[l.price] = l.qty
		}
		// Compared plainly, asserted on a difference only: four
		// assertions a move made the 200,000 moves 22 s under -race
		// (s38sim).
		if s.bids[0] <= 0 || s.asks[0] <= 0 || s.bids[0] != bidBook[s.bestBid] || s.asks[0] != askBook[s.bestAsk()] {
			require.Positive(t, s.bids[0], "move %d: best bid quantity", i)
			require.Positive(t, s.asks[0], "move %d: best ask quantity", i)
			require.Equal(t, s.bids[0], bidBook[s.bestBid], "move %d: the diffs' best bid", i)
			require.Equal(t, s.asks[0], askBook[s.bestAsk()], "move %d: the diffs' best ask", i)
		}
	}
}
