package venuesim

import (
	"cmp"
	"iter"
	"slices"
)

// Our resting orders are in the public book, as a venue shows every
// resting order: Binance's depth diffs and REST snapshot ("Diff. Depth
// Stream", "Order Book": the quantity of each price level, all orders
// at the price) and OKX's books ("Order book channel": "Quantity at the
// price", "The number of orders at the price") list a level's quantity,
// ours and the others'. The grid (symbolState.bids, .asks) holds the
// others' liquidity, which the generator moves and a taker's walk takes;
// a level's public quantity is the grid's there plus what our resting
// orders of that side and price have left, at prices off the grid too.

// ownSide is our resting orders' quantity by price on a side, best
// first (symbolState.ownBids, .ownAsks). Caller holds the market lock.
func (s *symbolState) ownSide(buy bool) *[]level {
	if buy {
		return &s.ownBids
	}
	return &s.ownAsks
}

// ownAt is where price is, or would go, in a side's own levels (best
// first), and whether it is there.
func ownAt(side []level, buy bool, price int64) (int, bool) {
	return slices.BinarySearchFunc(side, price, func(l level, p int64) int {
		if buy {
			return cmp.Compare(p, l.price)
		}
		return cmp.Compare(l.price, p)
	})
}

// ownQty is what our resting orders of a side have left at price.
// Caller holds the market lock.
func (s *symbolState) ownQty(buy bool, price int64) int64 {
	side := *s.ownSide(buy)
	if i, ok := ownAt(side, buy, price); ok {
		return side[i].qty
	}
	return 0
}

// setOwn recounts what our resting orders of a side have left at price
// (after an order there rested, filled, or was canceled or expired) in
// the side's own levels. Caller holds the market lock.
func (s *symbolState) setOwn(buy bool, price int64) {
	var q int64
	for _, o := range s.orders {
		if (o.side == "BUY") == buy && o.price == price {
			q += o.qty - o.filled
		}
	}
	side := s.ownSide(buy)
	i, ok := ownAt(*side, buy, price)
	switch {
	case ok && q > 0:
		(*side)[i].qty = q
	case ok:
		*side = slices.Delete(*side, i, i+1)
	case q > 0:
		*side = slices.Insert(*side, i, level{price, q})
	}
}

// gridQty is the others' quantity at price on a side: the grid's level
// there, 0 off the grid. Caller holds the market lock.
func (s *symbolState) gridQty(buy bool, price int64) int64 {
	side, d := s.asks, price-s.bestAsk()
	if buy {
		side, d = s.bids, s.bestBid-price
	}
	if d < 0 || d%s.tick != 0 || d/s.tick >= int64(len(side)) {
		return 0
	}
	return side[d/s.tick]
}

// withOwn adds our resting quantity to each of a diff's levels (in
// place). Caller holds the market lock.
func (s *symbolState) withOwn(levels []level, buy bool) {
	if len(*s.ownSide(buy)) == 0 {
		return
	}
	for i := range levels {
		levels[i].qty += s.ownQty(buy, levels[i].price)
	}
}

// publicTop is a side's best level as the public book shows it: the
// grid's best or a better price of our resting orders, its quantity the
// others' and ours there; the zero level when the side is empty. It is
// what the bookTicker, OKX's bbo-tbt and the tickers name; a taker's
// matching takes the grid's (bidTop, askTop). Caller holds the market
// lock.
func (s *symbolState) publicTop(buy bool) level {
	top := s.askTop()
	if buy {
		top = s.bidTop()
	}
	own := *s.ownSide(buy)
	if len(own) == 0 {
		return top
	}
	if best := own[0].price; top.qty == 0 || buy && best > top.price || !buy && best < top.price {
		top.price = best
	}
	return level{top.price, s.gridQty(buy, top.price) + s.ownQty(buy, top.price)}
}

// ownChanged notes that our resting quantity at o's price changed (o
// rested, was filled, canceled or expired: noteOwn) and pushes the
// bookTicker at once when the public top (publicTop) is no longer was,
// the top before the change, and makes OKX's bbo-tbt and tickers due.
// Caller holds the market lock.
func (v *Venue) ownChanged(s *symbolState, o *order, ms int64, was [2]level) {
	s.noteOwn(o, ms)
	v.topChanged(s, was)
}

// topChanged pushes the bookTicker at once when the public top
// (publicTop) is no longer was, Binance's rule ("Individual Symbol Book
// Ticker Streams": "Pushes any update to the best bid or ask's price or
// quantity"), and makes OKX's bbo-tbt and tickers due (they go out on
// their cadences). Caller holds the market lock.
func (v *Venue) topChanged(s *symbolState, was [2]level) {
	if s.top() != was {
		v.broadcast([]string{s.lower + "@bookTicker"}, v.fills.appendBookTicker(nil, s))
		s.okxTopMoved, s.okxTickerDue = true, true
	}
}

// noteOwn notes that our resting quantity at o's price changed: a change
// of the book, an update id of its own, whose level (the others' and
// ours) goes out in the next batched diff of each depth stream and OKX's
// books. Caller holds the market lock.
func (s *symbolState) noteOwn(o *order, ms int64) {
	buy := o.side == "BUY"
	s.setOwn(buy, o.price)
	s.updID++
	l := []level{{o.price, s.gridQty(buy, o.price)}}
	if buy {
		s.noteDepth(l, nil, s.updID, false)
	} else {
		s.noteDepth(nil, l, s.updID, false)
	}
	s.okxBookAt = ms
}

// bookLevel is one price of a side's public book: the grid's (the
// others') quantity there and what our resting orders have left.
type bookLevel struct{ price, grid, own int64 }

// publicLevels walks a side's public book best first: each price where
// the grid or our resting orders have quantity, ours where the grid has
// none too (inside the generator's spread after a walk emptied its best
// levels, or past its last level). It reads only as far as the caller
// ranges. The snapshot and partial books (bookLevels) and a taker's walk
// (takePlan) read the one book. Caller holds the market lock.
func (s *symbolState) publicLevels(bidSide bool) iter.Seq[bookLevel] {
	return func(yield func(bookLevel) bool) {
		grid, price, step := s.asks, s.bestAsk(), s.tick
		if bidSide {
			grid, price, step = s.bids, s.bestBid, -s.tick
		}
		own := *s.ownSide(bidSide)
		for i := 0; ; {
			for i < len(grid) && grid[i] == 0 {
				i++
			}
			px := price + int64(i)*step
			var l bookLevel
			switch {
			case i == len(grid) && len(own) == 0:
				return
			case len(own) > 0 && i < len(grid) && own[0].price == px:
				l, own, i = bookLevel{px, grid[i], own[0].qty}, own[1:], i+1
			case len(own) > 0 && (i == len(grid) || bidSide == (own[0].price > px)):
				l, own = bookLevel{own[0].price, 0, own[0].qty}, own[1:] // ours alone
			default:
				l, i = bookLevel{px, grid[i], 0}, i+1
			}
			if !yield(l) {
				return
			}
		}
	}
}
