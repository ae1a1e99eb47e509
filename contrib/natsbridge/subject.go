package natsbridge

import (
	"strings"

	"github.com/meltica/meltica/schema"
)

// DefaultPrefix is the first token of every subject.
const DefaultPrefix = "meltica"

// Subject returns the subject an event of venue, symbol and type is published
// on: prefix.venue.symbol.type, for example
// "meltica.binance.BTC-USDT.trade". The type is its String form
// ("book_update", "exec_report"). A symbol is a single token: characters that
// NATS gives a meaning ('.', '*', '>', whitespace) become '_', and an empty
// symbol (connection states, venue-wide control) is "_". '-' is an ordinary
// character in NATS subjects and is kept. The event itself carries the exact
// symbol; the subject is only for routing.
func Subject(prefix string, venue schema.Venue, symbol string, t schema.EventType) string {
	return prefix + "." + token(string(venue)) + "." + token(symbol) + "." + t.String()
}

func token(s string) string {
	if s == "" {
		return "_"
	}
	if strings.ContainsAny(s, ".*> \t\r\n") {
		return strings.Map(func(r rune) rune {
			switch r {
			case '.', '*', '>', ' ', '\t', '\r', '\n':
				return '_'
			}
			return r
		}, s)
	}
	return s
}

// venueWide returns the filter that selects, of what filter selects, the
// events without a symbol (symbol token "_"), when filter names a symbol
// (a literal third token of four or more).
func venueWide(filter string) (string, bool) {
	tok := strings.Split(filter, ".")
	if len(tok) < 4 {
		return "", false
	}
	switch tok[2] {
	case "*", ">", "_":
		return "", false
	}
	tok[2] = "_"
	return strings.Join(tok, "."), true
}

// streamKey names one stream of events.
type streamKey struct {
	venue  schema.Venue
	symbol string
	typ    schema.EventType
}

// viewKey is a coalescable stream, view included: a symbol's live klines
// of each interval, tickers of each window (Ticker.Window, kept in
// interval as dispatch keeps it) and a book of each depth are a stream of their own,
// which dispatch coalesces apart and a gap marker names as their events
// do. What is kept per quote stream — the newest update waiting for the
// event pool, a stream whose quotes NATS refused — is kept per view: kept
// per (venue, symbol, type), one interval's replaced another's.
type viewKey struct {
	streamKey
	depth    int
	interval string
}

// viewOf returns the view of stream k that ev, one of its events or a gap
// marker about it, is of: for a ticker its window (Ticker.Window: "" the
// venue's standard 24 h ticker, "1h", "4h", "1d" Binance's rolling ones)
// in place of an interval, as dispatch keys it.
func viewOf(k streamKey, ev *schema.CanonicalEvent) viewKey {
	vk := viewKey{streamKey: k, depth: ev.Book.Depth, interval: ev.KlineInterval()}
	if k.typ == schema.EventTicker {
		vk.interval = ev.TickerWindow()
	}
	return vk
}

// name writes k's view into g, a gap marker about k, where dispatch's
// markers name it: Book.Depth, and Ticker.Window for a ticker (a window
// named as a kline's interval were a marker about no stream), else
// Kline.Interval.
func (k viewKey) name(g *schema.CanonicalEvent) {
	g.Book.Depth = k.depth
	if k.typ == schema.EventTicker {
		if k.interval != "" {
			g.UseTicker().Window = k.interval
		}
		if k.depth == windowedTicker {
			g.Book.Depth = 0 // quoteView's mark of kind, not a depth
		}
		return
	}
	if k.interval != "" {
		g.UseKline().Interval = k.interval
	}
}

// quoteView is the stream a coalescable update of stream k belongs to, as
// dispatch coalesces them: its view (viewOf: a ticker's window), and for a ticker whether it
// states its window (Ticker.WindowClose), which tells a venue's tickers
// with different fields apart — Binance 24hrTicker beside 24hrMiniTicker
// (Binance WebSocket Streams "Individual Symbol Ticker Streams",
// "Individual Symbol Mini Ticker Stream"), the mini one replacing the full
// one kept otherwise. other is the symbol's other ticker stream (the
// key itself for any other type): a gap marker that states no window
// covers both, one that states it (a subscriber queue's about a full
// ticker) the full ticker only.
func quoteView(k streamKey, ev *schema.CanonicalEvent) (vk, other viewKey) {
	vk = viewOf(k, ev)
	if k.typ != schema.EventTicker {
		return vk, vk
	}
	other = vk
	if ev.TickerWindowClose() != 0 {
		vk.depth = windowedTicker
	} else {
		other.depth = windowedTicker
	}
	return vk, other
}

// windowedTicker is viewKey.depth of a ticker that states its window
// (no book has a negative depth).
const windowedTicker = -1

// stream is what the publisher keeps per stream: its subject, built once, and
// the bridge sequence of its last message.
type stream struct {
	subject string
	seq     uint64
	run     uint32 // the run seq counts in (wire version 7)
}

// overlap reports whether some subject matches both a and b, NATS subjects
// or filters with the wildcards '*' (one token) and '>' (one token or
// more, last). overlap(filter, subject) of a literal subject is whether the
// filter matches it.
func overlap(a, b string) bool {
	for {
		ta, ra, moreA := strings.Cut(a, ".")
		tb, rb, moreB := strings.Cut(b, ".")
		if ta == ">" || tb == ">" {
			return true // both have a token here: '>' takes it and the rest
		}
		if ta != tb && ta != "*" && tb != "*" {
			return false
		}
		if !moreA || !moreB {
			return moreA == moreB
		}
		a, b = ra, rb
	}
}

// covers reports whether filter matches every subject that subj (a subject
// or a filter) matches.
func covers(filter, subj string) bool {
	for {
		tf, rf, moreF := strings.Cut(filter, ".")
		ts, rs, moreS := strings.Cut(subj, ".")
		if tf == ">" {
			return true
		}
		if ts == ">" || (tf != "*" && tf != ts) {
			return false
		}
		if !moreF || !moreS {
			return moreF == moreS
		}
		filter, subj = rf, rs
	}
}

// anyOverlap reports whether two of the filters overlap.
func anyOverlap(filters []string) bool {
	for i := range filters {
		for j := i + 1; j < len(filters); j++ {
			if overlap(filters[i], filters[j]) {
				return true
			}
		}
	}
	return false
}
