package venuesim

import (
	"strings"
	"time"
)

// klineIntervals are the kline intervals the venue serves, Binance's
// (spot "WebSocket Streams", "Kline/Candlestick chart intervals": 1s, 1m,
// 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w, 1M). ms is the
// length of the fixed ones; the calendar ones (1w, 1M) have none.
var klineIntervals = [...]struct {
	name string
	ms   int64
}{
	{"1s", 1000}, {"1m", 60_000}, {"3m", 180_000}, {"5m", 300_000}, {"15m", 900_000}, {"30m", 1_800_000},
	{"1h", 3_600_000}, {"2h", 7_200_000}, {"4h", 14_400_000}, {"6h", 21_600_000}, {"8h", 28_800_000},
	{"12h", 43_200_000}, {"1d", dayMs}, {"3d", 3 * dayMs}, {"1w", 0}, {"1M", 0},
}

const (
	// utc8Suffix names a kline stream whose intervals open and close in
	// UTC+8 (spot "WebSocket Streams", "Kline/Candlestick Streams with
	// timezone offset": <symbol>@kline_<interval>@+08:00).
	utc8Suffix = "@+08:00"
	utc8Ms     = 8 * 3_600_000
	// klineWeek and klineMonth are the calendar intervals' indexes.
	klineWeek  = len(klineIntervals) - 2
	klineMonth = len(klineIntervals) - 1
)

// klineSeries is one kline stream of a symbol that somebody listens to:
// an interval in UTC or in UTC+8, its open candle and the candle a trade
// of the next interval ended, not yet sent closed. refs counts the
// connections subscribed to it.
type klineSeries struct {
	interval int  // index in klineIntervals
	utc8     bool // the @+08:00 stream
	refs     int
	stream   string // btcusdt@kline_5m, btcusdt@kline_5m@+08:00
	open     kline
	closing  kline
}

// parseKlineStream splits <symbol>@kline_<interval>[@+08:00] into the
// symbol in lower case, the interval's index and the zone; ok is false
// for any other name.
func parseKlineStream(name string) (sym string, interval int, utc8, ok bool) {
	sym, kind, found := strings.Cut(name, "@kline_")
	if !found {
		return "", 0, false, false
	}
	kind, utc8 = strings.CutSuffix(kind, utc8Suffix)
	for i, iv := range klineIntervals {
		if iv.name == kind {
			return sym, i, utc8, true
		}
	}
	return "", 0, false, false
}

// klineBounds is the candle of interval that holds ms (Unix ms): its open
// time and its close time (the next one's open - 1), Unix ms. In UTC+8
// the interval opens and closes on UTC+8's clock, the times stay Unix
// ("Kline/Candlestick Streams with timezone offset": "the 1d klines will
// open at the beginning of the UTC+8 day", "E, t and T are Unix
// timestamps, always in UTC"). 1w opens on Monday 00:00 and 1M on the
// first of the month 00:00, of the zone; 3d every third day counted from
// the Unix epoch's day (Binance does not document where 3d opens).
func klineBounds(interval int, utc8 bool, ms int64) (start, end int64) {
	var off int64
	if utc8 {
		off = utc8Ms
	}
	local := ms + off
	switch interval {
	case klineWeek:
		// 1970-01-01 was a Thursday: Mondays are 4 days past a multiple
		// of 7 days.
		const week, monday = 7 * dayMs, 4 * dayMs
		start = floorTo(local-monday, week) + monday
		end = start + week
	case klineMonth:
		t := time.UnixMilli(floorTo(local, dayMs)).UTC()
		first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		start, end = first.UnixMilli(), first.AddDate(0, 1, 0).UnixMilli()
	default:
		n := klineIntervals[interval].ms
		start = floorTo(local, n)
		end = start + n
	}
	return start - off, end - off - 1
}

// floorTo rounds ms down to a multiple of n, negative ms too.
func floorTo(ms, n int64) int64 {
	r := ms % n
	if r < 0 {
		r += n
	}
	return ms - r
}

// klineSeriesOf finds the symbol's series of interval in the zone.
func (s *symbolState) klineSeriesOf(interval int, utc8 bool) int {
	for i := range s.series {
		if s.series[i].interval == interval && s.series[i].utc8 == utc8 {
			return i
		}
	}
	return -1
}

// partialDepths are the levels of Binance's partial book depth streams
// (spot "WebSocket Streams", "Partial Book Depth Streams": "Valid <levels>
// are 5, 10, or 20", <symbol>@depth<levels> or @depth<levels>@100ms,
// "Update Speed: 1000ms or 100ms": see partialTick).
var partialDepths = [...]struct {
	name   string // depth5
	levels int
}{{"depth5", 5}, {"depth10", 10}, {"depth20", 20}}

// parsePartialDepth splits <symbol>@depth<levels>[@100ms] into the symbol
// and the index in partialDepths; ok is false for any other name.
func parsePartialDepth(name string) (sym string, i int, ok bool) {
	sym, kind, found := strings.Cut(name, "@")
	if !found {
		return "", 0, false
	}
	kind = strings.TrimSuffix(kind, partialFastSuffix)
	for i, d := range partialDepths {
		if d.name == kind {
			return sym, i, true
		}
	}
	return "", 0, false
}

// listen counts a connection in (on) or out of the stream name, when it
// is an all-market array, or a kline, partial depth or ticker stream of a
// symbol the venue lists:
// the venue keeps and sends a symbol's candles, and formats its partial
// books and tickers, only for the streams somebody listens to, so a trade costs what
// its subscribed intervals cost, not what every interval would. A kline
// series nobody listens to any more is dropped with its candle;
// subscribed again, its candle opens anew at the next push (pushKline). Caller
// holds the market lock.
func (m *market) listen(name string, on bool) {
	if i := allMarketStream(name); i >= 0 {
		countRef(&m.arrayRefs[i], on)
		return
	}
	if sym, i, ok := parsePartialDepth(name); ok {
		if s, ok := m.byLower[sym]; ok {
			countRef(&s.partial[i], on)
			if strings.HasSuffix(name, partialFastSuffix) {
				countRef(&s.partialFast[i], on)
			}
		}
		return
	}
	if sym, i, ok := parseTicker(name); ok {
		if s, ok := m.byLower[sym]; ok {
			countRef(&s.tickerRefs[i], on)
		}
		return
	}
	sym, interval, utc8, ok := parseKlineStream(name)
	if !ok {
		return
	}
	s, ok := m.byLower[sym]
	if !ok {
		return
	}
	i := s.klineSeriesOf(interval, utc8)
	switch {
	case on && i < 0:
		s.series = append(s.series, klineSeries{interval: interval, utc8: utc8, refs: 1, stream: name})
	case on:
		s.series[i].refs++
	case i >= 0:
		if s.series[i].refs--; s.series[i].refs == 0 {
			s.series = append(s.series[:i], s.series[i+1:]...)
		}
	}
}

// countRef counts a listener in (on) or out, never below zero.
func countRef(n *int, on bool) {
	if on {
		*n++
	} else if *n > 0 {
		*n--
	}
}

// Binance pushes each kline stream on its own clock, trade or not (spot
// "WebSocket Streams", "Kline/Candlestick Streams": "Update Speed: 1000ms
// for 1s, 2000ms for the other intervals"), the pushes on the multiples of
// the period of the venue's clock: every interval's boundary is one.
const (
	klineEvery1s = 1000 // ms
	klineEvery   = 2000 // ms
)

// cadence is a push every `every` ms of the venue's clock, on its
// multiples.
type cadence struct{ every, next int64 }

// newCadence is a cadence whose first push is the first multiple of
// every after ms.
func newCadence(every, ms int64) cadence { return cadence{every, floorTo(ms, every) + every} }

// due reports whether a push is due at ms (Unix ms), and then sets the
// next one: the next multiple of every after ms. A clock moved past
// several periods owes one push, not one per period; a clock stepped back
// past the last push restarts at once from the new time.
func (c *cadence) due(ms int64) bool {
	if ms < c.next-c.every {
		c.next = 0
	}
	if ms < c.next {
		return false
	}
	c.next = floorTo(ms, c.every) + c.every
	return true
}

// klineTick pushes, at ms, the candle of each kline series that somebody
// listens to and whose cadence is due (oneSec: the 1s streams'; other:
// every other interval's). Runs on the generator's goroutine (its wire):
// the candles are formatted, one after another into buf, under the market
// lock, and handed out after it, as the trades and partial books are, so
// that the orders, queries, subscriptions and REST snapshots the lock
// serves never wait for a push to every connection.
func (v *Venue) klineTick(buf []byte, ms int64, oneSec, other bool) []byte {
	m := v.mkt
	pushes := v.klinePushes[:0]
	m.mu.Lock()
	for _, s := range m.symbols {
		for i := range s.series {
			ks := &s.series[i]
			if ks.interval == 0 && oneSec || ks.interval != 0 && other {
				buf, pushes = v.pushKline(buf, pushes, s, ks, ms)
			}
		}
	}
	m.mu.Unlock()
	from := 0
	for _, p := range pushes {
		v.broadcast([]string{p.stream}, buf[from:p.end])
		from = p.end
	}
	clear(pushes) // the stream names go with their series
	v.klinePushes = pushes
	return buf
}

// klinePush is one candle of a tick: its stream and where its payload
// ends in the tick's buffer (it starts where the previous one ends).
type klinePush struct {
	stream string
	end    int
}

// pushKline formats, at a tick of its cadence, one series' candles to
// send, appended to buf and noted in pushes: a candle a trade past its
// end left closing goes out closed first; then a candle whose interval is
// over goes out closed (x=true) and the interval holding ms opens in its
// place with no trade, O=H=L=C its close, volume 0, sent from the next
// tick on; otherwise the open candle goes out (x=false). A clock moved
// past several intervals skips the empty ones between. A clock stepped
// back before the open candle pushes nothing until it is back in the
// candle's interval. A series with no candle yet (subscribed anew) opens
// one with no trade at the symbol's last price, sent from the next tick
// on; of a symbol that never traded, with its first trade. Caller holds
// the market lock.
func (v *Venue) pushKline(buf []byte, pushes []klinePush, s *symbolState, ks *klineSeries, ms int64) ([]byte, []klinePush) {
	name := klineIntervals[ks.interval].name
	if c := &ks.closing; c.live {
		buf = v.gen.appendKline(buf, s, ms, name, c, true)
		pushes = append(pushes, klinePush{ks.stream, len(buf)})
		*c = kline{}
	}
	k := &ks.open
	switch {
	case !k.live:
		if s.day.count > 0 {
			ks.openEmpty(s.day.close, ms)
		}
	case ms < k.start:
		// The clock stepped back before the candle (Options.Clock with
		// no monotonic reading): the series holds it, quiet, until the
		// clock is back in its interval, so that a stream's candles
		// still follow one another, each closed once after its close
		// time.
	case ms > k.end:
		buf = v.gen.appendKline(buf, s, ms, name, k, true)
		pushes = append(pushes, klinePush{ks.stream, len(buf)})
		ks.openEmpty(k.close, ms)
	default:
		buf = v.gen.appendKline(buf, s, ms, name, k, false)
		pushes = append(pushes, klinePush{ks.stream, len(buf)})
	}
	return buf, pushes
}

// openEmpty opens the series' candle of the interval holding ms with no
// trade: open, high, low and close at price, the previous close.
func (ks *klineSeries) openEmpty(price, ms int64) {
	start, end := klineBounds(ks.interval, ks.utc8, ms)
	ks.open = kline{live: true, start: start, end: end, open: price, high: price, low: price, close: price}
}

// partialEvery100ms is the period of the partial depth streams named
// @100ms; the others', like the 1s klines', is 1000 ms (spot "WebSocket
// Streams", "Partial Book Depth Streams": "Update Speed: 1000ms or
// 100ms").
const partialEvery100ms = 100

// partialFastSuffix names the partial depth streams pushed every 100 ms.
const partialFastSuffix = "@100ms"

// partialTick pushes the partial books somebody listens to: at a tick of
// the 1000 ms cadence (slow) to <symbol>@depth<levels>, at one of the
// 100 ms cadence (fast) to <symbol>@depth<levels>@100ms, the book as it
// is, moved or not ("Partial Book Depth Streams": "Top <levels> bids and
// asks, pushed every second"), each speed only when somebody listens to
// it. Runs on the generator's goroutine (its wire).
func (v *Venue) partialTick(slow, fast bool) {
	type push struct {
		names   [2]string
		n       int
		payload []byte
	}
	var pushes []push
	m := v.mkt
	m.mu.Lock()
	for _, s := range m.symbols {
		for i, refs := range s.partial {
			fastRefs := s.partialFast[i]
			toSlow, toFast := slow && refs > fastRefs, fast && fastRefs > 0
			if !toSlow && !toFast {
				continue
			}
			name := s.lower + "@" + partialDepths[i].name
			p := push{payload: v.gen.appendDepthSnapshot(nil, s, partialDepths[i].levels)}
			if toSlow {
				p.names[p.n], p.n = name, p.n+1
			}
			if toFast {
				p.names[p.n], p.n = name+partialFastSuffix, p.n+1
			}
			pushes = append(pushes, p)
		}
	}
	m.mu.Unlock()
	for _, p := range pushes {
		for _, name := range p.names[:p.n] {
			v.broadcast([]string{name}, p.payload)
		}
	}
}
