package book

import "github.com/meltica/meltica/schema"

// Sequence says how a venue chains its book messages.
type Sequence uint8

// Sequence rules.
const (
	// SeqNone: messages carry no sequence the book can check (Coinbase).
	SeqNone Sequence = iota
	// SeqBinance: a diff carries its first and last update ids (U, u in
	// FirstSeq, LastSeq). Diffs with u ≤ the snapshot's lastUpdateId are
	// dropped, the first applied one must have U ≤ lastUpdateId+1 ≤ u and
	// every later U must be the previous u + 1.
	SeqBinance
	// SeqPrev: a message names the sequence of the previous one (OKX
	// prevSeqId in PrevSeq, seqId in LastSeq), which must be the last one
	// applied. Messages without sequence ids are not checked.
	SeqPrev
	// SeqNext: a delta's LastSeq must be the previous one + 1 (Bybit u).
	SeqNext
)

// Resync says how a book gets back a snapshot after it was invalidated.
type Resync uint8

// Resync kinds.
const (
	// ResyncFetch: buffer diffs and fetch a snapshot through the book's
	// [Fetcher] (Binance's REST /api/v3/depth).
	ResyncFetch Resync = iota + 1
	// ResyncResubscribe: drop diffs and call the book's Resubscribe
	// callback; the venue answers a new subscription with a snapshot
	// (OKX, Kraken, Bybit, Coinbase).
	ResyncResubscribe
)

// Rule is a venue's book protocol, as data: how messages chain, what the
// checksum covers and how to resynchronise. The venue rules below are the
// ones to use; a Rule is read-only once a book uses it.
type Rule struct {
	Venue         schema.Venue
	Sequence      Sequence
	Checksum      Checksum
	ChecksumDepth int    // levels per side the checksum covers
	PriceScale    int    // Kraken v2: digits the checksum pads prices to
	QtyScale      int    // Kraken v2: digits the checksum pads quantities to
	Depth         int    // levels per side kept (the subscribed depth); 0 keeps all
	Resync        Resync // how to get a new snapshot
}

// Venue rules. Copy one to change Depth or, for Kraken v2, the instrument's
// PriceScale and QtyScale.
var (
	Binance  = Rule{Venue: schema.VenueBinance, Sequence: SeqBinance, Resync: ResyncFetch}
	OKX      = Rule{Venue: schema.VenueOKX, Sequence: SeqPrev, Checksum: ChecksumOKX, ChecksumDepth: 25, Resync: ResyncResubscribe}
	KrakenV1 = Rule{Venue: schema.VenueKraken, Checksum: ChecksumKraken, ChecksumDepth: 10, Resync: ResyncResubscribe}
	KrakenV2 = Rule{Venue: schema.VenueKraken, Checksum: ChecksumKraken, ChecksumDepth: 10, Resync: ResyncResubscribe}
	Bybit    = Rule{Venue: schema.VenueBybit, Sequence: SeqNext, Resync: ResyncResubscribe}
	Coinbase = Rule{Venue: schema.VenueCoinbase, Resync: ResyncResubscribe}
)
