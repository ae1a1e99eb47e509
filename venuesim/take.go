package venuesim

import "math"

// fillPlan is one fill an order takes at once.
type fillPlan struct{ px, qty int64 }

// takePlan is what a marketable order takes from the book, changing
// nothing: the levels of the other side from the best, each up to its
// quantity, at prices no worse than a LIMIT order's, until the order's
// quantity is met or the book's levels (Options.DepthLevels) run out.
// A take within one level comes in two fills, a partial, then the rest
// (the level holds more than one resting order: a host meets a partial
// fill); one of several levels is one fill a level. Caller holds the
// market lock.
func takePlan(o *order) []fillPlan {
	s := o.symbol
	side, price, step := s.asks, s.bestAsk(), s.tick
	if o.side == "SELL" {
		side, price, step = s.bids, s.bestBid, -s.tick
	}
	var plan []fillPlan
	left := o.qty - o.filled
	for i, q := range side {
		px := price + int64(i)*step
		if left == 0 || o.typ != "MARKET" && (o.side == "BUY" && px > o.price || o.side == "SELL" && px < o.price) {
			break
		}
		if q == 0 {
			continue
		}
		take := min(q, left)
		plan = append(plan, fillPlan{px, take})
		left -= take
	}
	if len(plan) == 1 && plan[0].qty/2 > 0 {
		f := plan[0]
		plan = []fillPlan{{f.px, f.qty / 2}, {f.px, f.qty - f.qty/2}}
	}
	return plan
}

// quoteTake is the quantity a MARKET order by quote amount (quoteOrderQty)
// takes: the levels of the other side from the best, each at its price,
// until the amount is spent (a buy) or received (a sell), each level's
// part on the LOT_SIZE step; what is left when the levels run out, at the
// last level's price (the order then expires with it, take). WebSocket
// API "Place new order": quoteOrderQty is the amount "the user wants to
// spend (when buying) or receive (when selling)", "the correct quantity
// will be determined based on the market liquidity and quoteOrderQty".
// Caller holds the market lock.
func quoteTake(s *symbolState, buy bool, amount int64) int64 {
	side, price, step := s.bids, s.bestBid, -s.tick
	if buy {
		side, price, step = s.asks, s.bestAsk(), s.tick
	}
	var qty int64
	px := price
	for i, q := range side {
		px = price + int64(i)*step
		if q == 0 {
			continue
		}
		take := min(q, divDec(amount, px))
		take -= take % lotStep
		qty += take
		amount -= mulDec(px, take)
		if take < q {
			return qty
		}
	}
	if px <= 0 {
		return qty
	}
	take := divDec(amount, px)
	return min(qty, math.MaxInt64-take) + take - take%lotStep // saturates: LOT_SIZE rejects it
}

// consume takes plan's quantities off the book's levels, as the venue's
// matching takes the liquidity a taker order fills against: one update of
// the book (an update id), its diff batched for the depth streams
// (depthTick), the bookTicker pushed when the best level changed, OKX's
// bbo-tbt and tickers due. Caller holds the stepping and market locks.
func (v *Venue) consume(s *symbolState, buy bool, plan []fillPlan, ms int64) {
	if len(plan) == 0 {
		return
	}
	was := s.top()
	var changed []level
	for _, f := range plan {
		side, i := s.bids, (s.bestBid-f.px)/s.tick
		if buy {
			side, i = s.asks, (f.px-s.bestAsk())/s.tick
		}
		side[i] -= f.qty
		if n := len(changed); n > 0 && changed[n-1].price == f.px {
			changed[n-1].qty = side[i]
		} else {
			changed = append(changed, level{f.px, side[i]})
		}
	}
	s.updID++
	if buy {
		s.noteDepth(nil, changed, s.updID, false)
	} else {
		s.noteDepth(changed, nil, s.updID, false)
	}
	s.okxBookAt = ms
	v.topChanged(s, was)
}

// take fills a marketable order against the book (plan, its takePlan;
// consume) and answers it: FILLED when the book held its quantity; otherwise a FOK
// order takes nothing and expires, a MARKET or IOC order expires with the
// rest (Binance's spot "Enums", "Order status": EXPIRED, "the order was
// canceled according to the order type's rules (e.g. LIMIT FOK orders
// with no fill, LIMIT IOC or MARKET orders that partially fill)"), and a
// GTC LIMIT order rests with the rest. Caller holds the stepping and
// market locks.
func (c *conn) take(req apiRequest, o *order, now int64, respType string, plan []fillPlan) {
	v, s := c.v, o.symbol
	var took int64
	for _, f := range plan {
		took += f.qty
	}
	if o.tif == "FOK" && took < o.qty {
		plan, took = nil, 0
	}
	final := *o
	for _, f := range plan {
		final.filled += f.qty
		final.quote += mulDec(f.px, f.qty)
	}
	rests := took < o.qty && o.typ == "LIMIT" && o.tif == "GTC"
	status := "FILLED"
	switch {
	case took == o.qty:
	case rests && took > 0:
		status = "PARTIALLY_FILLED"
	case rests:
		status = "NEW"
	default:
		status = "EXPIRED"
	}
	c.answer(req, apiResult(req.ID, placeResult(&final, now, respType, status, plan, s.tradeID+1)))
	c.execReport(o, now, "NEW", "NEW", "NONE", 0, 0)
	v.consume(s, o.side == "BUY", plan, now)
	first := s.tradeID + 1
	for _, f := range plan {
		c.fill(o, now, f.px, f.qty, true)
	}
	// One aggregate trade a price ("Aggregate Trade Streams": "trade
	// information that is aggregated for a single taker order").
	for i := 0; i < len(plan); {
		j, qty := i, int64(0)
		for ; j < len(plan) && plan[j].px == plan[i].px; j++ {
			qty += plan[j].qty
		}
		v.printAggregate(o, now, plan[i].px, qty, first+uint64(i), first+uint64(j-1))
		i = j
	}
	switch {
	case status == "EXPIRED":
		o.status, o.updated = status, now
		c.execReport(o, now, "EXPIRED", "EXPIRED", "NONE", 0, 0)
	case rests:
		v.acct.lock(o)
		c.accountChanged(now, s.base, s.quote)
		was := s.top()
		s.orders = append(s.orders, o)
		v.ownChanged(s, o, now, was)
	}
}
