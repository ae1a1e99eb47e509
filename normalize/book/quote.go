package book

import "github.com/meltica/meltica/schema"

// Two sources of one best bid/offer.
//
// A symbol's EventBBO may come from two sources at once: the venue's quote
// stream, which a parser turns into EventBBO (Binance <symbol>@bookTicker,
// OKX bbo-tbt), and the top of the symbol's depth book, which the book
// publishes on each change (publishBBOLocked). Both are the same (venue,
// symbol, EventBBO), latest-wins in a subscriber's queue (DESIGN.md
// contract 4), yet each stream is in its own order, not in the other's: a
// depth diff older than the bookTicker delivered before it would make the
// book's older top the subscriber's latest. So the book keeps the last
// quote of each source delivered (pub: its own; ext: the quote stream's,
// told by Books.Publish, the sink the parser feeds) and drops a quote of
// either source older than the other's last, counted in
// Stats.StaleQuotes:
//
//   - Binance numbers both with the order book's update id: bookTicker "u"
//     is "order book updateId" (Binance WebSocket Streams and USDⓈ-M
//     Futures, "Individual Symbol Book Ticker Streams"), and a diff's "u"
//     the last update id of that book ("Diff. Depth Stream"); the book's
//     top is stamped with the update id it reflects (Book.LastSeq). A
//     lower number is older; an equal one is the same state (delivered).
//   - Elsewhere, and where a number is missing, by exchange time (OKX
//     bbo-tbt and books "ts": the venue does not document one numbering
//     across the two channels): strictly older is dropped, an equal time
//     delivered. Without both times nothing is compared.
//
// A drop is only made within quoteWindow (IngestTS) of the other source's
// last: a venue that numbers again, or whose clock went back, is followed
// after it, never silenced for good; an IngestTS gone back (the host's
// clock stepped) compares nothing. When the quote stream delivers, the
// book marks its top for publishing again (repub), so the first message
// applied that is newer than the quote publishes the book's top even when
// it did not change: the subscriber's latest is then the book's state.
// The book still counts its top as out (topKnown): a book that broke
// withdraws it after a quote stream's delivery too, so a subscriber's
// latest is never the quote of a lost connection or a broken book.

// quoteWindow bounds how long one source's last quote silences the other's
// older ones (nanoseconds of IngestTS).
const quoteWindow = 5_000_000_000

// quoteMark is the last best bid/offer delivered of one source.
type quoteMark struct {
	seq    uint64 // the order book's update id it reflects, 0 if none
	ts     int64  // ExchangeTS
	ingest int64  // IngestTS
	known  bool
}

// older reports whether a quote of the other source (its update id, its
// exchange and receive times) is older than m, under rule's venue.
func (m *quoteMark) older(rule Rule, seq uint64, ts, ingest int64) bool {
	if !m.known {
		return false
	}
	if d := ingest - m.ingest; d < 0 || d >= quoteWindow {
		return false
	}
	if rule.Venue == schema.VenueBinance && seq != 0 && m.seq != 0 {
		return seq < m.seq
	}
	return ts != 0 && m.ts != 0 && ts < m.ts
}

// staleQuote reports whether ev, an EventBBO of a venue's quote stream
// that came through f (nil: Books.Publish), is older than the top its
// symbol's book published, or was received before a lost connection —
// its tail (Stats.AfterLoss) — it is then counted, and to be dropped;
// otherwise the book records it as the quote stream's latest. The lost
// connection is f's client's latest loss; without f, the latest loss the
// book applied (Book.tailLocked), however many clients feed the venue:
// where several do, the quote may be a surviving connection's, received
// before another's loss, and is dropped all the same — on the safe side,
// as a tail let through would be served as live after the withdrawal;
// only f tells the two apart.
func (r *Books) staleQuote(ev *schema.CanonicalEvent, f *Feed) bool {
	r.mu.RLock()
	b := r.byKey[bookKey{ev.Venue, ev.Symbol}]
	r.mu.RUnlock()
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var tail bool
	if f != nil && f.venue == ev.Venue {
		tail = isTail(ev.IngestTS, f.lostAt.Load())
	} else {
		tail = b.tailLocked(ev)
	}
	if tail {
		// Received before a lost connection the book applied: the dead
		// connection's tail, as the book's own messages (Book.Apply).
		// After the book's withdrawal it would be the subscribers'
		// latest quote, of a connection that sends nothing more.
		b.stats.AfterLoss++
		return true
	}
	if b.pub.older(b.rule, ev.SeqProvider, ev.ExchangeTS, ev.IngestTS) {
		b.stats.StaleQuotes++
		return true
	}
	b.ext = quoteMark{seq: ev.SeqProvider, ts: ev.ExchangeTS, ingest: ev.IngestTS, known: true}
	b.repub = true
	return false
}
