package venuesim

import "strings"

// tickerKinds are Binance's individual symbol ticker streams (spot
// "WebSocket Streams": "Individual Symbol Ticker Streams",
// <symbol>@ticker, "Individual Symbol Mini Ticker Stream",
// <symbol>@miniTicker, and "Individual Symbol Rolling Window Statistics
// Streams", <symbol>@ticker_<window>, event type <window>Ticker).
var tickerKinds = [...]string{"ticker", "miniTicker", "ticker_1h", "ticker_4h", "ticker_1d"}

// rollingEvents are the event types of tickerKinds' rolling windows, from
// index firstRolling.
var rollingEvents = [...]string{"1hTicker", "4hTicker", "1dTicker"}

const firstRolling = 2

// dayStats are a symbol's statistics since the venue started: Binance's
// are those of a 24 h rolling window, and a simulated venue is younger
// than that for as long as tests run. Guarded by market.mu.
type dayStats struct {
	openTime               int64 // ms of the first trade
	open, high, low, close int64
	lastQty                int64
	volume, quoteVol       int64
	first, last            uint64 // trade ids
	count                  uint64
}

func (d *dayStats) add(ms, price, qty int64, tradeID uint64) {
	if d.count == 0 {
		*d = dayStats{openTime: ms, open: price, high: price, low: price, first: tradeID}
	}
	d.close, d.lastQty, d.last = price, qty, tradeID
	d.high, d.low = max(d.high, price), min(d.low, price)
	d.volume += qty
	d.quoteVol += mulDec(price, qty)
	d.count++
}

// parseTicker splits <symbol>@ticker, @miniTicker or @ticker_<window>
// into the symbol and the index in tickerKinds.
func parseTicker(name string) (sym string, i int, ok bool) {
	sym, kind, found := strings.Cut(name, "@")
	if !found {
		return "", 0, false
	}
	for i, k := range tickerKinds {
		if k == kind {
			return sym, i, true
		}
	}
	return "", 0, false
}

type tickerMsg struct {
	Event       string `json:"e"`
	EventTime   int64  `json:"E"`
	Symbol      string `json:"s"`
	Change      string `json:"p"`
	ChangePct   string `json:"P"`
	WeightedAvg string `json:"w"`
	PrevClose   string `json:"x"`
	Last        string `json:"c"`
	LastQty     string `json:"Q"`
	Bid         string `json:"b"`
	BidQty      string `json:"B"`
	Ask         string `json:"a"`
	AskQty      string `json:"A"`
	Open        string `json:"o"`
	High        string `json:"h"`
	Low         string `json:"l"`
	Volume      string `json:"v"`
	QuoteVolume string `json:"q"`
	OpenTime    int64  `json:"O"`
	CloseTime   int64  `json:"C"`
	FirstID     uint64 `json:"F"`
	LastID      uint64 `json:"L"`
	Count       uint64 `json:"n"`
}

// rollingTickerMsg is a rolling window ticker: the full ticker's fields
// but the previous close, last quantity and book top.
type rollingTickerMsg struct {
	Event       string `json:"e"`
	EventTime   int64  `json:"E"`
	Symbol      string `json:"s"`
	Change      string `json:"p"`
	ChangePct   string `json:"P"`
	Open        string `json:"o"`
	High        string `json:"h"`
	Low         string `json:"l"`
	Last        string `json:"c"`
	WeightedAvg string `json:"w"`
	Volume      string `json:"v"`
	QuoteVolume string `json:"q"`
	OpenTime    int64  `json:"O"`
	CloseTime   int64  `json:"C"`
	FirstID     uint64 `json:"F"`
	LastID      uint64 `json:"L"`
	Count       uint64 `json:"n"`
}

type miniTickerMsg struct {
	Event       string `json:"e"`
	EventTime   int64  `json:"E"`
	Symbol      string `json:"s"`
	Last        string `json:"c"`
	Open        string `json:"o"`
	High        string `json:"h"`
	Low         string `json:"l"`
	Volume      string `json:"v"`
	QuoteVolume string `json:"q"`
}

func dec(v int64) string { return string(fmtDec(nil, v)) }

// tickers formats the symbol's ticker, miniTicker and rolling window
// tickers for the streams somebody listens to (nil for the others), after
// a trade at ms: the statistics since the venue started (see dayStats;
// every window's alike: they are the window's only while the venue is
// younger than it), the book's top, the weighted average price quote volume / volume,
// the change in percent with eight decimals. Binance pushes them every
// 1000 ms; the venue pushes them on each trade. Caller holds the market
// lock.
func tickers(s *symbolState, ms int64) (out [len(tickerKinds)][]byte) {
	d := &s.day
	if d.count == 0 {
		return out
	}
	change := d.close - d.open
	pct := divDec(absI(change)*100, d.open)
	if change < 0 {
		pct = -pct
	}
	if s.tickerRefs[0] > 0 {
		out[0] = marshal(&tickerMsg{"24hrTicker", ms, s.name, dec(change), dec(pct), dec(divDec(d.quoteVol, d.volume)),
			dec(d.open), dec(d.close), dec(d.lastQty), dec(s.bestBid), dec(s.bids[0]), dec(s.bestAsk()), dec(s.asks[0]),
			dec(d.open), dec(d.high), dec(d.low), dec(d.volume), dec(d.quoteVol), d.openTime, ms, d.first, d.last, d.count})
	}
	if s.tickerRefs[1] > 0 {
		out[1] = marshal(&miniTickerMsg{"24hrMiniTicker", ms, s.name, dec(d.close), dec(d.open), dec(d.high), dec(d.low),
			dec(d.volume), dec(d.quoteVol)})
	}
	for i, e := range rollingEvents {
		if s.tickerRefs[firstRolling+i] > 0 {
			out[firstRolling+i] = marshal(&rollingTickerMsg{e, ms, s.name, dec(change), dec(pct), dec(d.open), dec(d.high), dec(d.low),
				dec(d.close), dec(divDec(d.quoteVol, d.volume)), dec(d.volume), dec(d.quoteVol), d.openTime, ms, d.first, d.last, d.count})
		}
	}
	return out
}

func absI(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
