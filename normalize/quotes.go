package normalize

import "github.com/meltica/meltica/schema"

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
//     "Individual Symbol Book Ticker Streams"), and 24hrTicker "L", its
//     last trade id (Binance "Individual Symbol Ticker Streams");
//   - OKX bbo-tbt and books5 "seqId" (OKX v5 "Order book channel": the
//     book's sequence, which may restart lower after a maintenance);
//   - Bybit tickers "cs", the cross sequence (Bybit v5 "Ticker");
//   - Coinbase Exchange ticker "sequence", the product's (Coinbase Exchange
//     WebSocket "Ticker channel").
//
// Coinbase Advanced Trade's sequence_num and Kraken v2's sequence number
// the connection's messages, not the symbol's: they are not compared, nor
// are quotes without a number (Binance miniTicker, OKX tickers, Kraken).
//
// The rule, per (interned symbol, stream) — a stream's snapshot and delta
// kinds (Bybit tickers) share one mark (quoteStream) — against the last quote delivered:
// a quote whose number is at most that quote's and whose exchange time is
// not later is dropped (Stats.Repeats) — an equal number with an equal time
// is the same quote again, and a lower one is older. A quote with a lower or
// equal number but a later exchange time is delivered and its number
// followed: the venue numbers again (OKX after a maintenance) or, for a
// ticker, the same last trade with later statistics. A quote without an
// exchange time (Binance spot bookTicker) is compared by its number alone
// within quoteRepeatWindow of the last one delivered (IngestTS): a
// rotation's repeats follow at once, while a venue that numbers again
// (Binance's testnet is reset) is followed once the window passed, so a
// stream is never silenced for longer. An IngestTS before the last one
// delivered (the host's clock stepped back) is not compared: delivered.
//
// State: one mark per (symbol, kind), bounded by the symbol registry; no
// allocation once a symbol was seen.

// quoteRepeatWindow bounds how long a quote without an exchange time is
// compared by its number alone (nanoseconds of IngestTS).
const quoteRepeatWindow = 5_000_000_000

// quoteMark is the last quote delivered of a symbol's stream.
type quoteMark struct {
	seq    uint64
	ts     int64 // ExchangeTS
	ingest int64 // IngestTS
}

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

// staleQuote reports whether ev, a quote of kind k, is not newer than the
// last one delivered (it is then to be dropped; it is counted); otherwise
// it records ev as delivered.
func (p *Parser) staleQuote(k int, ev *schema.CanonicalEvent) bool {
	seq := ev.SeqProvider
	if seq == 0 {
		return false
	}
	key := tradeKey{sym: ev.Symbol, kind: uint16(p.quoteStream(k))}
	m, known := p.quotes[key]
	if known && seq <= m.seq {
		ts := ev.ExchangeTS
		older := ts <= m.ts
		if ts == 0 || m.ts == 0 {
			// IngestTS is the host's wall clock: one stepped back
			// tells nothing, and compared it would silence the stream
			// for as long as the step.
			d := ev.IngestTS - m.ingest
			older = d >= 0 && d < quoteRepeatWindow
		}
		if older {
			p.stats.repeats.Add(1)
			return true
		}
	}
	if p.quotes == nil {
		p.quotes = make(map[tradeKey]quoteMark)
	}
	p.quotes[key] = quoteMark{seq: seq, ts: ev.ExchangeTS, ingest: ev.IngestTS}
	return false
}
