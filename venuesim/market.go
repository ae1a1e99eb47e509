package venuesim

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
)

// priceScale is the number of decimals the simulator prints, as Binance
// spot does ("67321.45000000").
const priceScale = 8

const one = 100_000_000 // 1.0 in units of 1e-8

// symbolState is one symbol's market: a price grid book, trade and update
// counters, and the current kline. Guarded by market.mu.
type symbolState struct {
	name    string // BTCUSDT
	lower   string // btcusdt
	base    string
	quote   string
	tick    int64 // price step, 1e-8 units
	bestBid int64
	bids    []int64 // quantities at bestBid - i*tick; 0 = no level
	asks    []int64 // quantities at bestBid + (i+1)*tick
	updID   uint64  // lastUpdateId
	gap     bool    // FaultDepthGap: the next diff skips update ids
	// depthSlow, depthFast and okxBooks are the changes of the book
	// since the last push of <symbol>@depth, <symbol>@depth@100ms and
	// OKX's books (depthbatch.go).
	depthSlow, depthFast, okxBooks depthBatch
	// okxBookAt is when (venue clock, Unix ms) the symbol's depth last
	// changed or its OKX books channel last pushed (okx.go: its
	// keep-alive counts from there).
	okxBookAt int64
	// okxTopMoved: the best bid or ask changed since OKX's bbo-tbt last
	// went out (okxBBOTick).
	okxTopMoved bool
	// okxTickerDue: the symbol traded or its top changed since OKX's
	// tickers last went out (okxTickerTick).
	okxTickerDue bool
	tradeID      uint64
	aggID        uint64
	okxTradeSeq  uint64           // the last OKX trades push's seqId (okxTrade)
	preventedID  int64            // the next prevented match's preventedMatchId (take)
	matches      []preventedMatch // every prevented match, by id (take; myPreventedMatches)
	// series are the kline streams somebody listens to (kline.go), each
	// with its open candle; minute is the 1m candle OKX's tickers take
	// for the day's, kept whoever listens.
	series []klineSeries
	minute kline
	// partial counts the connections listening to each of partialDepths
	// (either speed): the book is formatted for them only then;
	// partialFast those listening to its @100ms stream, so that a tick
	// of the 100 ms cadence formats only the books somebody takes at
	// 100 ms.
	partial, partialFast [len(partialDepths)]int
	// day is the ticker's statistics; tickerRefs counts the connections
	// listening to each of tickerKinds.
	day        dayStats
	tickerRefs [len(tickerKinds)]int
	// tickerStreams are the names of tickerKinds' streams of the symbol;
	// tickerCount is day.count at their last push (symbolTickers).
	tickerStreams [len(tickerKinds)]string
	tickerCount   uint64
	orders        []*order // resting limit orders of the WS-API
	// ownBids, ownAsks are what orders have left by price, each side
	// best first: the public book's own part, kept by noteOwn (ownbook.go).
	ownBids, ownAsks []level
	// arrayCount is day.count at the all-market arrays' last tick: the
	// symbol traded since when it differs (allmarket.go).
	arrayCount uint64
}

// kline is a candle. live: it is open (or closing), a candle with no
// trade yet included (trades 0: O=H=L=C the previous close, as Binance
// sends a candle with no trade).
type kline struct {
	live                   bool
	open, high, low, close int64
	start, end             int64 // open and close time, Unix ms
	volume, quoteVol       int64
	trades                 uint64
	firstTrade, lastTrade  uint64
}

func (s *symbolState) bestAsk() int64 { return s.bestBid + s.tick }

// bidTop is the best bid: the first bid level of the grid with a
// quantity (a taker's fills may have emptied the first ones); none, the
// zero level (price and quantity 0, as a bookTicker then names it), when
// a taker's walk emptied every level: nothing is there to trade against
// or to fill a resting order (callers test qty).
func (s *symbolState) bidTop() level { return firstLevel(s.bids, s.bestBid, -s.tick) }

// askTop is the best ask, as bidTop is the best bid.
func (s *symbolState) askTop() level { return firstLevel(s.asks, s.bestAsk(), s.tick) }

// firstLevel is the first level of side, whose i-th level is at price +
// i*step, with a quantity; the zero level when none has one.
func firstLevel(side []int64, price, step int64) level {
	for i, q := range side {
		if q > 0 {
			return level{price + int64(i)*step, q}
		}
	}
	return level{}
}

// top is the best bid and ask and their quantities, as a bookTicker
// names them: the public book's, our resting orders in it (ownbook.go).
func (s *symbolState) top() [2]level { return [2]level{s.publicTop(true), s.publicTop(false)} }

// market is the state of every symbol plus the random source.
type market struct {
	mu      sync.Mutex
	rng     *rand.Rand
	symbols []*symbolState
	byName  map[string]*symbolState
	byLower map[string]*symbolState // by the streams' lower-case name
	levels  int
	// arrayRefs counts the connections listening to each of
	// allMarketStreams.
	arrayRefs [len(allMarketStreams)]int
}

// knownQuotes splits generated symbols into base and quote.
var knownQuotes = []string{"USDT", "USDC", "FDUSD", "BTC", "ETH", "BNB", "EUR", "TRY"}

func splitSymbol(sym string) (base, quote string) {
	for _, q := range knownQuotes {
		if strings.HasSuffix(sym, q) && len(sym) > len(q) {
			return sym[:len(sym)-len(q)], q
		}
	}
	return sym[:len(sym)/2], sym[len(sym)/2:]
}

// startPrice picks a plausible price and tick for a symbol.
func startPrice(sym string) (price, tick int64) {
	switch {
	case strings.HasPrefix(sym, "BTC"):
		return 67000 * one, one / 100
	case strings.HasPrefix(sym, "ETH"):
		return 3500 * one, one / 100
	case strings.HasPrefix(sym, "BNB"):
		return 600 * one, one / 100
	}
	return 10 * one, one / 10000
}

func newMarket(symbols []string, levels int, seed uint64) *market {
	m := &market{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), byName: map[string]*symbolState{},
		byLower: map[string]*symbolState{}, levels: levels}
	for _, sym := range symbols {
		sym = strings.ToUpper(sym)
		price, tick := startPrice(sym)
		base, quote := splitSymbol(sym)
		s := &symbolState{name: sym, lower: strings.ToLower(sym), base: base, quote: quote, tick: tick,
			bestBid: price, bids: make([]int64, levels), asks: make([]int64, levels), updID: 1000}
		for i := range levels {
			s.bids[i] = m.qty()
			s.asks[i] = m.qty()
		}
		for i, k := range tickerKinds {
			s.tickerStreams[i] = s.lower + "@" + k
		}
		m.symbols = append(m.symbols, s)
		m.byName[sym] = s
		m.byLower[s.lower] = s
	}
	return m
}

// qty returns a random level quantity between 0.001 and 5 units.
func (m *market) qty() int64 { return (1 + m.rng.Int64N(5000)) * one / 1000 }

// fmtDec appends v (1e-8 units) with exactly eight decimals.
func fmtDec(b []byte, v int64) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/one, 10)
	b = append(b, '.')
	frac := v % one
	var tmp [priceScale]byte
	for i := priceScale - 1; i >= 0; i-- {
		tmp[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(b, tmp[:]...)
}

// depthGapSkip is how many update ids FaultDepthGap skips.
const depthGapSkip = 5

// level is one changed book level for a depth diff.
type level struct{ price, qty int64 }

// moveBook changes the book a little: new quantities, deleted levels and,
// now and then, a shift of the whole grid by one tick (the price moves).
// It returns the changed levels and advances the update ids; first and last
// are the U and u of the diff. With gap set, ids are skipped before first.
// With top set the change is one of the top: the price moves, or the
// first level changed is the best bid or ask.
func (m *market) moveBook(s *symbolState, gap, top bool) (bids, asks []level, first, last uint64) {
	if gap {
		s.updID += depthGapSkip
	}
	first = s.updID + 1
	switch r := m.rng.IntN(10); {
	case r < 2: // price up one tick: best ask level becomes the best bid
		q := s.asks[0]
		if q == 0 {
			q = m.qty()
		}
		copy(s.asks, s.asks[1:])
		s.asks[len(s.asks)-1] = m.qty()
		copy(s.bids[1:], s.bids[:len(s.bids)-1])
		s.bids[0] = q
		s.bestBid += s.tick
		// The old best ask is now the best bid.
		bids = append(bids, level{s.bestBid, q}, level{s.bestBid - int64(len(s.bids))*s.tick, 0})
		asks = append(asks, level{s.bestBid, 0}, level{s.bestBid + int64(len(s.asks))*s.tick, s.asks[len(s.asks)-1]})
		asks = m.fillTop(s.asks, s.bestAsk(), asks)
	case r < 4: // price down one tick
		q := s.bids[0]
		if q == 0 {
			q = m.qty()
		}
		copy(s.bids, s.bids[1:])
		s.bids[len(s.bids)-1] = m.qty()
		copy(s.asks[1:], s.asks[:len(s.asks)-1])
		s.asks[0] = q
		s.bestBid -= s.tick
		// The old best bid is now the best ask.
		asks = append(asks, level{s.bestAsk(), q}, level{s.bestAsk() + int64(len(s.asks))*s.tick, 0})
		bids = append(bids, level{s.bestAsk(), 0}, level{s.bestBid - int64(len(s.bids)-1)*s.tick, s.bids[len(s.bids)-1]})
		bids = m.fillTop(s.bids, s.bestBid, bids)
	default: // quantities change on a few levels; the top levels never empty
		for j := range 1 + m.rng.IntN(3) {
			i := m.rng.IntN(len(s.bids))
			if top && j == 0 {
				i = 0
			}
			q := m.qty()
			if i > 2 && m.rng.IntN(4) == 0 {
				q = 0
			}
			if m.rng.IntN(2) == 0 {
				s.bids[i] = q
				bids = append(bids, level{s.bestBid - int64(i)*s.tick, q})
			} else {
				s.asks[i] = q
				asks = append(asks, level{s.bestAsk() + int64(i)*s.tick, q})
			}
		}
	}
	s.updID += uint64(1 + m.rng.IntN(3))
	return bids, asks, first, s.updID
}

// fillTop gives a side's best level (side[0], at price) a quantity when
// the price moved an empty level there, and names it in the diff: a best
// bid or ask always has one, as Binance's bookTicker does.
func (m *market) fillTop(side []int64, price int64, diff []level) []level {
	if side[0] != 0 {
		return diff
	}
	side[0] = m.qty()
	return append(diff, level{price, side[0]})
}

// trade makes a trade at the top of the book, against a side that holds
// a level (a taker's walk may have emptied one: the trade is then the
// other side's; !ok, no trade, when both are empty), and updates the
// kline.
func (m *market) trade(s *symbolState, nowMs int64) (price, qty int64, buyerMaker, ok bool) {
	buyerMaker = m.rng.IntN(2) == 0
	qty = (1 + m.rng.Int64N(1000)) * one / 10000
	bid, ask := s.bidTop(), s.askTop()
	switch {
	case bid.qty == 0 && ask.qty == 0:
		return 0, 0, false, false
	case ask.qty == 0:
		buyerMaker = true
	case bid.qty == 0:
		buyerMaker = false
	}
	price = ask.price
	if buyerMaker {
		price = bid.price
	}
	s.tradeID++
	m.record(s, price, qty, nowMs)
	return price, qty, buyerMaker, true
}

// record counts the trade s.tradeID in the candles and the ticker's
// statistics, the generator's and the WS-API's fills alike.
func (m *market) record(s *symbolState, price, qty, nowMs int64) {
	m.klineTrade(s, price, qty, nowMs)
	s.day.add(nowMs, price, qty, s.tradeID)
}

// klineTrade adds a trade to the candle of each kline series somebody
// listens to (and to OKX's minute), opening the series' candle when the
// last one is over.
func (m *market) klineTrade(s *symbolState, price, qty, nowMs int64) {
	for i := range s.series {
		ks := &s.series[i]
		if ks.open.live && nowMs < ks.open.start {
			// The clock stepped back before the open candle, which
			// counts the trades of its interval only (pushKline).
			continue
		}
		if k := &ks.open; !k.live || nowMs > k.end {
			if k.live {
				ks.closing = *k // its closed update still goes out first
			}
			start, end := klineBounds(ks.interval, ks.utc8, nowMs)
			*k = kline{live: true, start: start, end: end}
		}
		ks.open.add(price, qty, s.tradeID)
	}
	if k := &s.minute; !k.live || nowMs > k.end || nowMs < k.start {
		start, end := klineBounds(1, false, nowMs)
		*k = kline{live: true, start: start, end: end}
	}
	s.minute.add(price, qty, s.tradeID)
}

// add counts a trade in the candle. The first trade of a candle opens
// it: a candle open with no trade (the previous close) takes the trade's
// price as its open, high and low, as Binance's klines open with the
// interval's first trade (spot "Kline/Candlestick data": the open price).
func (k *kline) add(price, qty int64, tradeID uint64) {
	if k.trades == 0 {
		k.open, k.high, k.low, k.firstTrade = price, price, price, tradeID
	}
	k.close = price
	k.high = max(k.high, price)
	k.low = min(k.low, price)
	k.volume += qty
	k.quoteVol += mulDec(price, qty)
	k.trades++
	k.lastTrade = tradeID
}

// mulDec multiplies two 1e-8 fixed-point values exactly (128-bit
// intermediate), truncating toward zero past the eighth decimal, as
// Binance's quote quantities are exact; a product past int64 saturates.
func mulDec(a, b int64) int64 {
	neg := (a < 0) != (b < 0)
	hi, lo := bits.Mul64(absU(a), absU(b))
	if hi >= one {
		return saturate(neg)
	}
	q, _ := bits.Div64(hi, lo, one)
	if q > math.MaxInt64 {
		return saturate(neg)
	}
	if neg {
		return -int64(q)
	}
	return int64(q)
}

// divDec divides two non-negative 1e-8 fixed-point values exactly,
// truncating; b ≤ 0 or a quotient past int64 saturates.
func divDec(a, b int64) int64 {
	if b <= 0 || a < 0 {
		return math.MaxInt64
	}
	hi, lo := bits.Mul64(uint64(a), one)
	if hi >= uint64(b) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(b))
	return int64(min(q, math.MaxInt64))
}

func absU(v int64) uint64 {
	if v < 0 {
		return uint64(-v)
	}
	return uint64(v)
}

func saturate(neg bool) int64 {
	if neg {
		return math.MinInt64
	}
	return math.MaxInt64
}
