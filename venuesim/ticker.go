package venuesim

import (
	"strings"

	"github.com/goccy/go-json/jsontext"
)

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

// The ticker payloads, field order Binance's; decimals are raw values
// (wire.dec) so that a reused wire encodes them without allocating.
type tickerMsg struct {
	Event       string         `json:"e"`
	EventTime   int64          `json:"E"`
	Symbol      string         `json:"s"`
	Change      jsontext.Value `json:"p"`
	ChangePct   jsontext.Value `json:"P"`
	WeightedAvg jsontext.Value `json:"w"`
	PrevClose   jsontext.Value `json:"x"`
	Last        jsontext.Value `json:"c"`
	LastQty     jsontext.Value `json:"Q"`
	Bid         jsontext.Value `json:"b"`
	BidQty      jsontext.Value `json:"B"`
	Ask         jsontext.Value `json:"a"`
	AskQty      jsontext.Value `json:"A"`
	Open        jsontext.Value `json:"o"`
	High        jsontext.Value `json:"h"`
	Low         jsontext.Value `json:"l"`
	Volume      jsontext.Value `json:"v"`
	QuoteVolume jsontext.Value `json:"q"`
	OpenTime    int64          `json:"O"`
	CloseTime   int64          `json:"C"`
	FirstID     uint64         `json:"F"`
	LastID      uint64         `json:"L"`
	Count       uint64         `json:"n"`
}

// rollingTickerMsg is a rolling window ticker: the full ticker's fields
// but the previous close, last quantity and book top.
type rollingTickerMsg struct {
	Event       string         `json:"e"`
	EventTime   int64          `json:"E"`
	Symbol      string         `json:"s"`
	Change      jsontext.Value `json:"p"`
	ChangePct   jsontext.Value `json:"P"`
	Open        jsontext.Value `json:"o"`
	High        jsontext.Value `json:"h"`
	Low         jsontext.Value `json:"l"`
	Last        jsontext.Value `json:"c"`
	WeightedAvg jsontext.Value `json:"w"`
	Volume      jsontext.Value `json:"v"`
	QuoteVolume jsontext.Value `json:"q"`
	OpenTime    int64          `json:"O"`
	CloseTime   int64          `json:"C"`
	FirstID     uint64         `json:"F"`
	LastID      uint64         `json:"L"`
	Count       uint64         `json:"n"`
}

type miniTickerMsg struct {
	Event       string         `json:"e"`
	EventTime   int64          `json:"E"`
	Symbol      string         `json:"s"`
	Last        jsontext.Value `json:"c"`
	Open        jsontext.Value `json:"o"`
	High        jsontext.Value `json:"h"`
	Low         jsontext.Value `json:"l"`
	Volume      jsontext.Value `json:"v"`
	QuoteVolume jsontext.Value `json:"q"`
}

// symbolTickers formats, at ms (a tick of the 1000 ms cadence: "Update
// Speed: 1000ms"), the ticker streams somebody listens to of each symbol
// that traded since the previous tick, E the tick, one after another into
// buf, each noted in pushes (Binance does not say whether a symbol with
// no trade in the second is pushed: here, as in the all-market arrays
// whose elements these payloads are, it is not). Caller holds the market
// lock; runs on the generator's goroutine (its wire).
func (v *Venue) symbolTickers(buf []byte, pushes []klinePush, ms int64) ([]byte, []klinePush) {
	for _, s := range v.mkt.symbols {
		if s.day.count == s.tickerCount {
			continue
		}
		s.tickerCount = s.day.count
		for i, refs := range s.tickerRefs {
			if refs > 0 {
				buf = v.gen.appendTicker(buf, s, ms, i)
				pushes = append(pushes, klinePush{s.tickerStreams[i], len(buf)})
			}
		}
	}
	return buf, pushes
}

// appendTicker appends the payload of the symbol's ticker stream
// tickerKinds[kind] at ms to b: the statistics since the venue started
// (see dayStats; every window's alike: they are the window's only while
// the venue is younger than it), the book's top, the weighted average
// price quote volume / volume, the change in percent with eight
// decimals. The symbol has traded. Caller holds the market lock.
func (w *wire) appendTicker(b []byte, s *symbolState, ms int64, kind int) []byte {
	d := &s.day
	change := d.close - d.open
	pct := divDec(absI(change)*100, d.open)
	if change < 0 {
		pct = -pct
	}
	switch kind {
	case 0:
		bid, ask := s.publicTop(true), s.publicTop(false)
		w.full = tickerMsg{"24hrTicker", ms, s.name, w.dec(change), w.dec(pct), w.dec(divDec(d.quoteVol, d.volume)),
			w.dec(d.open), w.dec(d.close), w.dec(d.lastQty), w.dec(bid.price), w.dec(bid.qty), w.dec(ask.price),
			w.dec(ask.qty), w.dec(d.open), w.dec(d.high), w.dec(d.low), w.dec(d.volume), w.dec(d.quoteVol),
			d.openTime, ms, d.first, d.last, d.count}
		return w.encode(b, &w.full)
	case 1:
		w.mini = miniTickerMsg{"24hrMiniTicker", ms, s.name, w.dec(d.close), w.dec(d.open), w.dec(d.high), w.dec(d.low),
			w.dec(d.volume), w.dec(d.quoteVol)}
		return w.encode(b, &w.mini)
	}
	w.rolling = rollingTickerMsg{rollingEvents[kind-firstRolling], ms, s.name, w.dec(change), w.dec(pct), w.dec(d.open),
		w.dec(d.high), w.dec(d.low), w.dec(d.close), w.dec(divDec(d.quoteVol, d.volume)), w.dec(d.volume),
		w.dec(d.quoteVol), d.openTime, ms, d.first, d.last, d.count}
	return w.encode(b, &w.rolling)
}

func absI(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
