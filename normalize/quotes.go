package normalize

import (
	"hash/maphash"

	"github.com/meltica/meltica/schema"
)

// Quote repeats.
//
// A best bid/offer or a ticker is latest-wins (DESIGN.md contract 4): a
// subscriber must never get one older than one it got. A rotation that
// switched unaligned, or a reconnection's overlap, sends some again after
// newer ones: trades and book diffs are dropped as repeats by their ids
// (trades.go, the book's continuity), quotes by the venue's number of the
// symbol's stream where it has one (kind.latest), in SeqProvider:
//
//   - Binance bookTicker "u", the symbol's order book updateId (Binance
//     WebSocket Streams "Individual Symbol Book Ticker Streams"; USDⓈ-M
//     "Individual Symbol Book Ticker Streams"), and 24hrTicker and the
//     rolling-window tickers (1hTicker, 4hTicker, 1dTicker, one stream
//     each) "L", the last trade id (Binance "Individual Symbol Ticker
//     Streams", "Individual Symbol Rolling Window Statistics Streams");
//   - OKX bbo-tbt and books5 "seqId" (OKX v5 "Order book channel": the
//     book's sequence, which may restart lower after a maintenance);
//   - Bybit tickers "cs", the cross sequence (Bybit v5 "Ticker");
//   - Coinbase Exchange ticker "sequence", the product's (Coinbase Exchange
//     WebSocket "Ticker channel").
//
//   - Binance partial depth "lastUpdateId" (spot) or "u" (USDⓈ-M, COIN-M),
//     the book's update id, per view: depth5 and depth20 of one book are
//     two streams numbered alike (Binance "Partial Book Depth Streams").
//
// Coinbase Advanced Trade's sequence_num and Kraken v2's sequence number
// the connection's messages, not the symbol's: they are not compared.
//
// The rule, per (interned symbol, stream, view) — a stream's snapshot and
// delta kinds (Bybit tickers) share one mark (quoteStream) — against the
// last quote delivered: a quote whose number is at most that quote's and
// whose exchange time is not later is dropped (Stats.Repeats) — an equal
// number with an equal time is the same quote again, and a lower one is
// older. A quote with a lower or equal number but a later exchange time is
// delivered and its number followed: the venue numbers again (OKX after a
// maintenance) or, for a ticker, the same last trade with later
// statistics. A quote without an exchange time (Binance spot bookTicker
// and partial depth) is compared by its number alone within
// quoteRepeatWindow of the last one delivered (IngestTS): a rotation's
// repeats follow at once, while a venue that numbers again (Binance's
// testnet is reset) is followed once the window passed, so a stream is
// never silenced for longer. An IngestTS before the last one delivered
// (the host's clock stepped back) is not compared: delivered.
//
// Quotes the venue does not number but stamps with the time of the fact
// are compared by that time: Binance 24hrMiniTicker and USDⓈ-M/COIN-M
// markPriceUpdate "E" (event time; Binance "Individual Symbol Mini Ticker
// Stream", "Mark Price Stream"), OKX tickers "ts" ("ticker data generation
// time", OKX v5 "Tickers channel"), Kraken v2 ticker "timestamp" when sent.
// One strictly older than the last delivered is dropped while within
// quoteRepeatWindow (IngestTS) of it — a venue clock gone back is followed
// after the window, never silenced for good —; one at the same time is
// dropped only when its payload is byte-for-byte (a 64-bit hash) that of
// one of the last quoteSums delivered at that time: two distinct updates
// may share a millisecond, and an overlap replays them. Quotes with neither
// a number nor such a time are not compared: Kraken v1 and a v2 ticker
// without "timestamp", and Coinbase Advanced Trade ticker, whose only time
// is its frame's, stamped per connection.
//
// State: one mark per (symbol, kind, view), and one per (symbol, type,
// view) where two streams share a type; at most maxStreams marks
// (bounds.go): a quote of a stream past them is delivered uncompared and
// counted (Stats.Untracked), never dropped. No allocation once a stream
// was seen.

// quoteRepeatWindow bounds how long a quote is compared by its number
// alone (no exchange time), and how long a venue's clock gone back
// silences an unnumbered stream (nanoseconds of IngestTS).
const quoteRepeatWindow = 5_000_000_000

// quoteKey names a quote stream: its interned symbol, its kind
// (quoteStream) and its view (Book.Depth: Binance depth5 and depth20 are
// two views of one book, numbered alike; Ticker.Window: Binance's 1 h,
// 4 h and 1 d tickers and its standard 24 h ones are four streams, in
// their own orders, whose last trade ids "L" are alike).
type quoteKey struct {
	sym    string
	kind   uint16
	depth  int32
	window string // a constant: schema.Ticker.Window
}

// quoteMark is the last quote delivered of a symbol's stream.
type quoteMark struct {
	seq    uint64
	ts     int64 // ExchangeTS
	ingest int64 // IngestTS
	// sums: the payload hashes (quoteSeed) of the distinct unnumbered
	// quotes delivered at ts, the last quoteSums of them (n counts them
	// all): a rotation's overlap replays a millisecond's quotes, the older
	// after the newer.
	sums [quoteSums]uint64
	n    uint32
}

// quoteSums is how many distinct unnumbered quotes of one exchange time a
// mark remembers; one more forgets the first.
const quoteSums = 4

// seen reports whether a quote of hash sum was delivered at the mark's
// time.
func (m *quoteMark) seen(sum uint64) bool {
	for i := range min(m.n, quoteSums) {
		if m.sums[i] == sum {
			return true
		}
	}
	return false
}

// quoteSeed hashes unnumbered quotes' payloads: the same bytes at the same
// exchange time are the same quote again.
var quoteSeed = maphash.MakeSeed()

// quoteStream returns the kind whose mark k's quotes share: the first
// latest kind of k's name. A stream sent as a snapshot then deltas (Bybit
// tickers) is two kinds of one name and one number ("cs"): kept apart, a
// subscription's snapshot older than the deltas delivered before it (the
// new connection's first frame after an unaligned rotation) was compared
// with the last snapshot alone, delivered, and made the base the deltas
// merge into.
func (p *Parser) quoteStream(k int) int {
	kinds := p.spec.kinds
	for j := range k {
		if kinds[j].latest && kinds[j].name == kinds[k].name {
			return j
		}
	}
	return k
}

// staleQuote reports whether ev, a quote of kind k sent as payload, is not
// newer than the last one delivered (it is then to be dropped; it is
// counted); otherwise it records ev as delivered.
func (p *Parser) staleQuote(k int, ev *schema.CanonicalEvent, payload []byte) bool {
	seq, ts := ev.SeqProvider, ev.ExchangeTS
	if seq == 0 && ts == 0 {
		return false // neither a number nor a time: nothing to compare
	}
	var sum uint64
	if seq == 0 {
		sum = maphash.Bytes(quoteSeed, payload)
	}
	stream := uint16(p.quoteStream(k))
	key := quoteKey{sym: ev.Symbol, kind: stream, depth: int32(ev.Book.Depth)}
	m, known := p.quotes[key]
	if known && m.older(seq, ts, ev.IngestTS, sum) {
		p.stats.repeats.Add(1)
		return true
	}
	if !known && !p.room(len(p.quotes)) {
		return false // delivered, not compared: counted Untracked by room
	}
	if p.quotes == nil {
		p.quotes = make(map[quoteKey]quoteMark)
	}
	if ts != 0 && p.typeShared(k) && p.olderThanOtherKind(ev, stream) {
		p.stats.repeats.Add(1)
		return true
	}
	if !known || seq != 0 || m.seq != 0 || ts != m.ts {
		m = quoteMark{}
	}
	m.seq, m.ts, m.ingest = seq, ts, ev.IngestTS
	if seq == 0 {
		m.sums[m.n%quoteSums] = sum
		m.n++
	}
	p.quotes[key] = m
	return false
}

// older reports whether a quote (its number, exchange time, IngestTS and,
// unnumbered, payload hash) is not newer than m, the last delivered.
func (m *quoteMark) older(seq uint64, ts, ingest int64, sum uint64) bool {
	// IngestTS is the host's wall clock: one stepped back tells nothing,
	// and compared it would silence the stream for as long as the step.
	d := ingest - m.ingest
	recent := d >= 0 && d < quoteRepeatWindow
	if seq == 0 {
		switch {
		case ts == m.ts:
			return m.seen(sum) // the same bytes again; else a distinct update
		case ts < m.ts:
			return recent
		}
		return false
	}
	if seq > m.seq {
		return false
	}
	if ts == 0 || m.ts == 0 {
		return recent
	}
	return ts <= m.ts
}

// typeMark is the kind bit of the quoteKey under which a parser keeps,
// per (symbol, event type, view), the last quote delivered of any of the
// type's streams: its exchange time, IngestTS and stream (seq, +1).
const typeMark = 1 << 15

// typeShared reports whether another stream of the venue (another latest
// kind's name, quoteStream) carries kind k's event type: only then is a
// mark per (symbol, type, view) kept (olderThanOtherKind), not one more
// per symbol of every quote stream.
func (p *Parser) typeShared(k int) bool {
	kinds := p.spec.kinds
	for j := range kinds {
		if kinds[j].typ == kinds[k].typ && kinds[j].latest && kinds[j].name != kinds[k].name {
			return true
		}
	}
	return false
}

// olderThanOtherKind reports whether ev, a quote of stream (quoteStream)
// with an exchange time, is strictly older than the last quote of the same
// (symbol, event type, view — a book's depth, a ticker's window) that
// another stream delivered — two streams
// of one type (Binance 24hrTicker and 24hrMiniTicker, both EventTicker)
// are each in their own order, not in one another's: on a connection a
// mini ticker of an earlier "E" may follow a full ticker of a later one,
// and a subscriber's latest ticker would go back in time. Their only
// shared measure is the exchange time. As staleQuote, an older one is
// dropped only within quoteRepeatWindow (IngestTS) of the other delivered:
// a venue clock gone back is followed after it. Otherwise it records ev.
func (p *Parser) olderThanOtherKind(ev *schema.CanonicalEvent, stream uint16) bool {
	key := quoteKey{sym: ev.Symbol, kind: typeMark | uint16(ev.Type), depth: int32(ev.Book.Depth), window: ev.TickerWindow()}
	m, known := p.quotes[key]
	if known && m.seq != uint64(stream)+1 && ev.ExchangeTS < m.ts {
		if d := ev.IngestTS - m.ingest; d >= 0 && d < quoteRepeatWindow {
			return true
		}
	}
	if !known && !p.room(len(p.quotes)) {
		return false
	}
	p.quotes[key] = quoteMark{seq: uint64(stream) + 1, ts: ev.ExchangeTS, ingest: ev.IngestTS}
	return false
}
