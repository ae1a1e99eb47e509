package continuity

import "slices"

// BookDepth is the depth of a venue's book subscription, in levels per
// side: the one place the subscribe builders (normalize) and the book
// rules (normalize/book) take it from, so that a book keeps exactly the
// levels the venue keeps it told about. A venue that sends no delete for a
// level pushed out of the subscribed view (Kraken) leaves such a level in
// a book kept deeper than the subscription, where it turns stale: the
// book must truncate to this depth after every update.
type BookDepth struct {
	Default int   // what a subscription asks for when not told otherwise
	Offered []int // the depths the venue accepts
	// BBO is the offered depth whose channel is the best bid and offer,
	// which normalize reads as schema.EventBBO events, not as book
	// messages (OKX bbo-tbt: 1); 0 for none. No book can be kept there.
	BBO int
}

// Offers reports whether the venue accepts depth.
func (d BookDepth) Offers(depth int) bool { return slices.Contains(d.Offered, depth) }

// Books returns the offered depths whose channels are book messages: a
// book can be kept at each.
func (d BookDepth) Books() []int {
	out := make([]int, 0, len(d.Offered))
	for _, n := range d.Offered {
		if n != d.BBO {
			out = append(out, n)
		}
	}
	return out
}

// Venue book depths. Binance's diff stream and Coinbase's level2 channel
// cover the whole book: no depth.
var (
	// KrakenDepth: the "depth" of a v1 and v2 "book" subscription (Kraken
	// WebSocket API docs, "book": 10, 25, 100, 500, 1000; default 10).
	// The book checksum covers the top 10 whatever the depth.
	KrakenDepth = BookDepth{Default: 10, Offered: []int{10, 25, 100, 500, 1000}}
	// BybitDepth: the depth in the topic orderbook.{depth}.{symbol} (Bybit
	// API v5 docs, "Orderbook": 1, 50, 200, 1000, and 500 for
	// derivatives; options 25 and 100). 50 is the usual choice and the
	// recorded samples'.
	BybitDepth = BookDepth{Default: 50, Offered: []int{1, 25, 50, 100, 200, 500, 1000}}
	// OKXDepth: the depth of OKX's book channels (OKX API v5 docs, "Order
	// book channel": bbo-tbt 1, books5 5, books50-l2-tbt 50, books and
	// books-l2-tbt 400). The checksum covers the top 25. Depth 1 is
	// bbo-tbt only, read as best bid/offer events: no book depth.
	OKXDepth = BookDepth{Default: 400, Offered: []int{1, 5, 50, 400}, BBO: 1}
)
