package book

import "github.com/meltica/meltica/schema"

// okxBooks5Depth is the depth of OKX's books5 channel, whose every push is
// its whole view (OKX API v5 "Order book channel").
const okxBooks5Depth = 5

// okxPlaceholder reports whether a stream snapshot of an OKX book (any
// OKX rule) is OKX's placeholder, not a book: one with no level on either
// side. OKX delisted the initial snapshot of its books channels (API
// changelog "Delist initial snapshot and checksum field in order book
// channels", production August 2026), and its "How to manage a local
// order book correctly" says to "Ignore the first event received (action
// is snapshot)" and take the book from GET /api/v5/market/books. Loaded,
// it would make the book live with no level, a book that was never the
// venue's; ignored (Stats.Stale), the book waits for a snapshot that
// holds the book (OKX) or fetches one on the next update (OKXFetch). A
// snapshot with levels holds the whole book, as OKX sent it before the
// delisting: every OKX rule takes it. So does every books5 push, empty
// or not: that channel sends its 5 levels whole at every change (OKX
// "Order book channel"), so an empty one is the view emptied, and it is
// not one of the incremental channels the delisting concerns.
func (b *Book) okxPlaceholder(bk *schema.Book) bool {
	if b.rule.Sequence != SeqOKX || len(bk.Bids) > 0 || len(bk.Asks) > 0 || bk.Depth == okxBooks5Depth {
		return false
	}
	b.stats.Stale++
	return true
}

// okxWholeView reports whether a snapshot an OKXFetch book loaded holds
// the whole view it follows — one from the stream, or fetched as deep as
// the view — so that it has no range beyond which the book lacks levels
// (setRange): OKX sends every level that comes into the view.
func (b *Book) okxWholeView(bk *schema.Book, fetchedDepth int) bool {
	return b.rule.fetchOKX() && b.keep() > 0 && (bk != &b.fetchEv.Book || fetchedDepth >= b.keep())
}

// okxReset is the latest maintenance reset an OKXFetch book buffered
// (okxNoteReset): the push's ids and venue time.
type okxReset struct {
	last, prev uint64
	ts         int64 // ExchangeTS, Unix ns
}

// okxNoteReset records a diff an OKXFetch book buffered that resets
// OKX's numbering (OKX "Order book channel": seqId may be reset during
// maintenance; its push has seqId < prevSeqId).
func (b *Book) okxNoteReset(src *schema.CanonicalEvent) {
	bk := &src.Book
	if b.rule.fetchOKX() && bk.LastSeq != 0 && bk.LastSeq < bk.PrevSeq && src.ExchangeTS != 0 {
		b.okxRst = okxReset{last: bk.LastSeq, prev: bk.PrevSeq, ts: src.ExchangeTS}
	}
}

// okxAfterReset drops the buffered diffs before the latest reset when the
// fetched snapshot was generated after it (its ts later than the reset's
// push): the snapshot is of the new numbering and holds them, while
// their ids, of the old one, would read as a gap against it for good.
// A snapshot generated before the reset joins them by their ids, as any.
func (b *Book) okxAfterReset(snap *schema.CanonicalEvent) {
	r := b.okxRst
	if r.ts == 0 || snap.ExchangeTS <= r.ts {
		return
	}
	for i := b.npend - 1; i > 0; i-- {
		if p := b.pend(i); p.LastSeq == r.last && p.PrevSeq == r.prev {
			b.stats.Stale += uint64(i)
			b.keepPending(i)
			return
		}
	}
}
