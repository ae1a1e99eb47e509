package book

import "github.com/meltica/meltica/schema"

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
// delisting: every OKX rule takes it.
func (b *Book) okxPlaceholder(bk *schema.Book) bool {
	if b.rule.Sequence != SeqOKX || len(bk.Bids) > 0 || len(bk.Asks) > 0 {
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
