package book

import (
	"github.com/meltica/meltica/normalize/internal/continuity"
	"github.com/meltica/meltica/schema"
)

// Sequence says how a venue chains its book messages: which continuity
// rule decides whether a diff continues the book, repeats what it already
// covers, or follows lost messages. The rules are the ones the normalize
// parsers use for their gap markers (one implementation, in
// normalize/internal/continuity); the package doc states each.
type Sequence uint8

// Sequence rules.
const (
	// SeqNone: messages carry no sequence the book can check (Kraken,
	// whose checksum does; Coinbase, whose sequence_num counts the whole
	// connection and is checked by the parser, which then marks a gap for
	// every book of the connection).
	SeqNone Sequence = iota
	// SeqBinance: U/u (FirstSeq, LastSeq) against the snapshot's
	// lastUpdateId, then U = previous u + 1 (spot) or, for a diff that
	// carries pu (PrevSeq; USDⓈ-M, COIN-M), pu = previous u.
	SeqBinance
	// SeqOKX: prevSeqId (PrevSeq) = previous seqId (LastSeq), keep-alives
	// (prevSeqId = seqId) and resets (seqId < prevSeqId) included.
	SeqOKX
	// SeqBybit: u (LastSeq) = previous u + 1; u = 1 is a restart whose
	// message is applied as a snapshot.
	SeqBybit
)

func (s Sequence) continuity() continuity.Rule {
	switch s {
	case SeqBinance:
		return continuity.Binance
	case SeqOKX:
		return continuity.OKX
	case SeqBybit:
		return continuity.Bybit
	}
	return continuity.None
}

// Resync says how a book gets back a snapshot after it was invalidated.
type Resync uint8

// Resync kinds.
const (
	// ResyncFetch: buffer diffs and fetch a snapshot through the book's
	// [Fetcher] (Binance's REST depth endpoint).
	ResyncFetch Resync = iota + 1
	// ResyncResubscribe: drop diffs and call the book's Resubscribe
	// callback; the venue answers a new subscription with a snapshot
	// (OKX, Kraken, Bybit, Coinbase).
	ResyncResubscribe
)

// Rule is a venue's book protocol, as data: how messages chain, what the
// checksum covers, how many levels the book keeps and how to
// resynchronise. The venue rules below are the ones to use; a Rule is
// read-only once a book uses it.
type Rule struct {
	Venue         schema.Venue
	Sequence      Sequence
	Checksum      Checksum
	ChecksumDepth int // levels per side the checksum covers
	// PriceScale and QtyScale are the pair's precision a Kraken checksum
	// writes prices and quantities at (the v2 "instrument" channel's
	// price_precision and qty_precision; AssetPairs' pair_decimals and
	// lot_decimals). Optional: without them a book learns the precision
	// from the venue's checksum of a snapshot (v2) or the digits its
	// levels show (v1: the venue's text is at the pair's precision), and
	// a wrong one is corrected the same way (see ChecksumKraken).
	PriceScale int
	QtyScale   int
	// Depth is the levels per side kept: the depth subscribed. The book
	// truncates to it after every snapshot and diff, because a venue
	// that keeps a subscriber to a view of the book (Kraken) sends no
	// delete for a level pushed out of it. 0 keeps all (Binance's diff
	// stream and Coinbase's level2 cover the whole book); on a venue of
	// views (Kraken, Bybit, OKX), 0 follows the deepest view the book's
	// messages name and keeps that many levels. Set it with
	// [Rule.WithDepth].
	Depth  int
	Resync Resync // how to get a new snapshot
}

// Venue rules. Binance serves spot, USDⓈ-M and COIN-M books alike (the
// Fetcher says which REST endpoint). Depths are each venue's default
// subscription depth, the one normalize's subscribe builders ask for:
// Kraken 10, Bybit 50 (orderbook.50), OKX 400 ("books"). Use
// [Rule.WithDepth] for another subscription depth. Kraken v2 books may be
// given the instrument's PriceScale and QtyScale; they learn them
// otherwise (ChecksumKraken).
var (
	Binance = Rule{Venue: schema.VenueBinance, Sequence: SeqBinance, Resync: ResyncFetch}
	// OKX is OKX's books from the stream's snapshots alone: it waits for
	// one (never going live on OKX's empty placeholder) and resubscribes
	// after a gap. OKX no longer sends one (see OKXFetch): use OKXFetch.
	OKX = Rule{Venue: schema.VenueOKX, Sequence: SeqOKX, Checksum: ChecksumOKX, ChecksumDepth: 25, Depth: continuity.OKXDepth.Default, Resync: ResyncResubscribe}
	// OKXFetch is OKX's books as OKX serves them today, and as it served
	// them before, the rule to use (a session's with Endpoints.REST): a
	// stream snapshot that holds levels (an OKX that still sends it, our
	// recordings) is loaded as the book; OKX's empty "snapshot" since the
	// delisting of the initial snapshot (API changelog "Delist initial
	// snapshot and checksum field in order book channels") is ignored
	// (Stats.Stale), and the book fetches its snapshot ([OKXREST]) as
	// OKX's "How to manage a local order book correctly" says: it buffers
	// the diffs, fetches, drops the diffs whose seqId the snapshot's
	// covers, applies the first with prevSeqId ≤ the snapshot's seqId <
	// its seqId and chains the rest by prevSeqId = previous seqId; a
	// snapshot older than the first diff left (its prevSeqId above the
	// snapshot's seqId) is fetched again. A gap fetches too. Needs
	// Options.Fetcher.
	OKXFetch = Rule{Venue: schema.VenueOKX, Sequence: SeqOKX, Checksum: ChecksumOKX, ChecksumDepth: 25, Depth: continuity.OKXDepth.Default, Resync: ResyncFetch}
	KrakenV1 = Rule{Venue: schema.VenueKraken, Checksum: ChecksumKraken, ChecksumDepth: 10, Depth: continuity.KrakenDepth.Default, Resync: ResyncResubscribe}
	KrakenV2 = Rule{Venue: schema.VenueKraken, Checksum: ChecksumKraken, ChecksumDepth: 10, Depth: continuity.KrakenDepth.Default, Resync: ResyncResubscribe}
	Bybit    = Rule{Venue: schema.VenueBybit, Sequence: SeqBybit, Depth: continuity.BybitDepth.Default, Resync: ResyncResubscribe}
	Coinbase = Rule{Venue: schema.VenueCoinbase, Resync: ResyncResubscribe}
)

// views reports whether the venue streams its book as views of a depth
// (Kraken, Bybit, OKX), not as the whole book (Binance's diffs, Coinbase's
// level2).
func (r Rule) views() bool {
	_, ok := r.depths()
	return ok
}

// depths returns the book depths the venue streams, false for a venue
// whose stream is the whole book.
func (r Rule) depths() (continuity.BookDepth, bool) {
	switch r.Venue {
	case schema.VenueKraken:
		return continuity.KrakenDepth, true
	case schema.VenueBybit:
		return continuity.BybitDepth, true
	case schema.VenueOKX:
		return continuity.OKXDepth, true
	}
	return continuity.BookDepth{}, false
}

// WithDepth returns a copy of the rule keeping depth levels per side: pass
// the depth the book's subscription asks for. It fails with a
// [*DepthError] for a depth the venue does not offer (Kraken 10, 25, 100,
// 500, 1000; Bybit 1, 25, 50, 100, 200, 500, 1000 — options 25 and 100;
// OKX 5, 50, 400), for OKX 1 (bbo-tbt, OKX's only depth-1 channel, is read
// as best bid/offer events, schema.EventBBO: a book there would never see
// a book message and never go live; use the BBO events) and for venues
// whose stream is the whole book (Binance, Coinbase: a book truncated
// there would lose the levels that come back into view, as the venue does
// not send them again).
func (r Rule) WithDepth(depth int) (Rule, error) {
	d, ok := r.depths()
	if !ok {
		return r, &DepthError{Venue: r.Venue, Depth: depth}
	}
	if !d.Offers(depth) || depth == d.BBO {
		e := &DepthError{Venue: r.Venue, Depth: depth, Offered: d.Books()}
		if depth == d.BBO {
			e.Reason = "its channel (OKX bbo-tbt) is read as best bid/offer events, not book messages"
		}
		return r, e
	}
	r.Depth = depth
	return r, nil
}

// fetchOKX reports whether the rule fetches OKX's snapshots ([OKXFetch]).
func (r Rule) fetchOKX() bool { return r.Sequence == SeqOKX && r.Resync == ResyncFetch }
