package venuesim

import (
	"math"
	"slices"
)

// fillPlan is one fill an order takes at once.
type fillPlan struct{ px, qty int64 }

// selfMatch is a taker's walk meeting our own resting order maker of the
// other side (every order of the venue is one account's) after the fills
// plan[:at]: a self-trade the taker's STP mode prevents (spot "Self
// Trade Prevention (STP) FAQ": "STP behavior is typically determined by
// the STP mode of the taker order only").
type selfMatch struct {
	maker *order
	at    int
}

// takePlan is what a marketable order takes from the book, changing
// nothing: the levels of the other side from the best, each up to its
// quantity, at prices no worse than a LIMIT order's, until the order's
// quantity is met or the book's levels (Options.DepthLevels) run out.
// A take within one level comes in two fills, a partial, then the rest
// (the level holds more than one resting order: a host meets a partial
// fill); one of several levels is one fill a level. Caller holds the
// market lock.
//
// The walk reads the other side's public book (publicLevels): at a
// price where our own orders rest, the taker takes the generator's
// quantity first (it was there before them: price-time priority), then
// meets ours (meets) — wherever the public book has them, at a price
// better than the generator's best (its best levels emptied by a walk) or
// past its last level too —, as the taker's STP mode says (o.stp):
// EXPIRE_MAKER meets each of them and walks on (they expire, their
// quantity never taken); EXPIRE_TAKER and EXPIRE_BOTH meet the first and
// stop (stopped: the taker's rest expires).
func takePlan(o *order) (plan []fillPlan, meets []selfMatch, stopped bool) {
	s := o.symbol
	buy := o.side == "BUY"
	left := o.qty - o.filled
	for l := range s.publicLevels(!buy) {
		if left == 0 || o.typ != "MARKET" && (buy && l.price > o.price || !buy && l.price < o.price) {
			break
		}
		if l.grid > 0 {
			take := min(l.grid, left)
			plan = append(plan, fillPlan{l.price, take})
			left -= take
		}
		if l.own == 0 {
			continue
		}
		for _, w := range s.orders {
			if left == 0 || w.side == o.side || w.price != l.price {
				continue
			}
			meets = append(meets, selfMatch{w, len(plan)})
			if o.stp != "EXPIRE_MAKER" {
				return plan, meets, true
			}
		}
	}
	if len(plan) == 1 && plan[0].qty/2 > 0 && len(meets) == 0 {
		f := plan[0]
		plan = []fillPlan{{f.px, f.qty / 2}, {f.px, f.qty - f.qty/2}}
	}
	return plan, meets, false
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
// GTC LIMIT order rests with the rest.
//
// Self-trade prevention (meets, stopped; spot "Self Trade Prevention
// (STP) FAQ"): each prevented match gets the symbol's next
// preventedMatchId, from 0; a maker met under EXPIRE_MAKER or
// EXPIRE_BOTH expires ("expiring the potential maker order's remaining
// quantity"): it leaves the book and its report is TRADE_PREVENTION,
// EXPIRED_IN_MATCH, v the id, U the taker's orderId, A and B its
// remaining quantity; a taker stopped by EXPIRE_TAKER or EXPIRE_BOTH
// expires the same way after its fills, whatever its timeInForce, U the
// maker's orderId. The answer lists the prevented matches
// (preventedMatches) and the taker's preventedQuantity. A FOK order that
// the walk cannot fill whole prevents nothing: it takes nothing and
// expires, EXPIRED (the FAQ does not say). Caller holds the stepping and
// market locks.
func (c *conn) take(req apiRequest, o *order, now int64, respType string, plan []fillPlan, meets []selfMatch, stopped bool) {
	v, s := c.v, o.symbol
	var took int64
	for _, f := range plan {
		took += f.qty
	}
	if o.tif == "FOK" && took < o.qty {
		plan, took, meets, stopped = nil, 0, nil, false
	}
	final := *o
	for _, f := range plan {
		final.filled += f.qty
		final.quote += mulDec(f.px, f.qty)
	}
	prevented := make([]prevention, len(meets))
	for i, m := range meets {
		prevented[i] = prevention{m.maker, s.preventedID, m.at}
		s.preventedID++
	}
	if stopped {
		final.preventedID, final.prevented = prevented[len(prevented)-1].id, o.qty-took
	}
	rests := !stopped && took < o.qty && o.typ == "LIMIT" && o.tif == "GTC"
	status := "FILLED"
	switch {
	case stopped:
		status = "EXPIRED_IN_MATCH"
	case took == o.qty:
	case rests && took > 0:
		status = "PARTIALLY_FILLED"
	case rests:
		status = "NEW"
	default:
		status = "EXPIRED"
	}
	matches := s.notePrevented(o, prevented, stopped, final.prevented, now)
	c.answer(req, apiResult(req.ID, placeResult(&final, now, respType, status, plan, s.tradeID+1, matches)))
	c.execReport(o, now, "NEW", "NEW", "NONE", 0, 0)
	v.consume(s, o.side == "BUY", plan, now)
	first := s.tradeID + 1
	done := 0
	for _, p := range prevented {
		for ; done < p.at; done++ {
			c.fill(o, now, plan[done].px, plan[done].qty, true)
		}
		if o.stp != "EXPIRE_TAKER" {
			v.expireMaker(p, o, now)
		}
	}
	for ; done < len(plan); done++ {
		c.fill(o, now, plan[done].px, plan[done].qty, true)
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
	case stopped:
		p := prevented[len(prevented)-1]
		o.status, o.updated, o.preventedID, o.prevented = status, now, p.id, o.qty-o.filled
		c.preventionReport(o, now, p.id, p.maker.id, o.prevented)
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

// prevention is a prevented match: id its preventedMatchId, maker the
// resting order met after the taker's fills plan[:at].
type prevention struct {
	maker *order
	id    int64
	at    int
}

// expireMaker expires p's maker, met by taker: its remaining quantity
// prevented, it leaves the book, its funds are released, and its report
// (TRADE_PREVENTION, EXPIRED_IN_MATCH) goes out on the account's
// subscriptions, the account positions after it. Caller holds the
// stepping and market locks.
func (v *Venue) expireMaker(p prevention, taker *order, now int64) {
	m, s := p.maker, p.maker.symbol
	i := slices.Index(s.orders, m)
	if i < 0 {
		return
	}
	was := s.top()
	s.orders = slices.Delete(s.orders, i, i+1)
	v.ownChanged(s, m, now, was)
	m.status, m.updated, m.preventedID, m.prevented = "EXPIRED_IN_MATCH", now, p.id, m.qty-m.filled
	m.conn = v.userConn(m.conn)
	m.conn.preventionReport(m, now, p.id, taker.id, m.prevented)
	v.acct.release(m, -1)
	m.conn.accountChanged(now, s.base, s.quote)
}
