package venuesim

// prints are the payloads of one trade on the venues' trade streams, made
// under the market lock and sent after it (or under it: the WS-API's
// fills, which hold the generator's stepping lock too, so that the
// trades go out in the order of their ids).
type prints struct {
	s                    *symbolState
	trade, agg, okxTrade []byte
}

// tradePrints formats the trade s.tradeID at ms (Binance's @trade; the
// tickers go out on their cadences, symbolTickers and okxTickerTick)
// and, when aggFirst is not 0, the aggregate trade s.aggID of the trades
// aggFirst to s.tradeID and OKX's trades push of them, while an OKX
// connection is open (a taker order's fills at one price are aggregated
// by the caller, printAggregate). The trade goes into buf. Caller holds
// the market lock.
func (v *Venue) tradePrints(w *wire, buf []byte, s *symbolState, ms, price, qty int64, buyerMaker bool, aggFirst uint64) prints {
	p := prints{s: s, trade: w.appendTrade(buf, s, ms, price, qty, buyerMaker)}
	if aggFirst != 0 {
		p.agg = w.appendAggTrade(nil, s, ms, price, qty, buyerMaker, aggFirst, s.tradeID)
		if v.okxConns.Load() > 0 {
			p.okxTrade = okxTrade(s, ms, price, qty, buyerMaker, s.tradeID, s.tradeID-aggFirst+1)
		}
	}
	s.okxTickerDue = true // OKX's tickers go out on their cadence (okxTickerTick)
	return p
}

// sendPrints broadcasts p's payloads to their streams.
func (v *Venue) sendPrints(p *prints) {
	s := p.s
	v.broadcast([]string{s.lower + "@trade"}, p.trade)
	if p.agg != nil {
		v.broadcast([]string{s.lower + "@aggTrade"}, p.agg)
	}
	if p.okxTrade != nil {
		v.broadcast([]string{"trades:" + s.instID()}, p.okxTrade)
	}
}

// printFill prints a WS-API fill, the trade s.tradeID, on the trade
// streams, as the venues print every trade (Binance "Trade Streams":
// "each trade has a unique buyer and seller", its t the id the
// executionReport's t names; OKX "Trades channel"). taker: the order
// took liquidity, and its fills at one price are aggregated by the
// caller (printAggregate, "Aggregate Trade Streams": "aggregated for a
// single taker order"); a maker's fill is an aggregate trade of its own.
// Caller holds the stepping and market locks.
func (v *Venue) printFill(o *order, ms, px, qty int64, taker bool) {
	s := o.symbol
	buyerMaker := (o.side == "BUY") != taker
	v.mkt.record(s, px, qty, ms)
	var aggFirst uint64
	if !taker {
		s.aggID++
		aggFirst = s.tradeID
	}
	p := v.tradePrints(&v.fills, nil, s, ms, px, qty, buyerMaker, aggFirst)
	v.sendPrints(&p)
}

// printAggregate prints the aggregate trade of a taker order's fills at
// px, the trades first to last, for qty in all: Binance's @aggTrade and
// OKX's trades push ("Trades channel": "The message is sent only once per
// taker order, filled price, source. The count field is used to represent
// the number of aggregated matches", tradeId "The last trade ID in the
// trades aggregation"). Caller holds the stepping and market locks.
func (v *Venue) printAggregate(o *order, ms, px, qty int64, first, last uint64) {
	s := o.symbol
	s.aggID++
	v.broadcast([]string{s.lower + "@aggTrade"}, v.fills.appendAggTrade(nil, s, ms, px, qty, o.side == "SELL", first, last))
	if v.okxConns.Load() > 0 {
		v.broadcast([]string{"trades:" + s.instID()}, okxTrade(s, ms, px, qty, o.side == "SELL", last, last-first+1))
	}
}
