package book

import (
	"errors"
	"fmt"
	"time"

	"github.com/meltica/meltica/schema"
)

var (
	// ErrStale is returned by a fetch whose snapshot is older than the
	// buffered diffs, every attempt of the round: the book stays
	// unsynchronised and tries again on a later diff.
	ErrStale = errors.New("book: snapshot older than the buffered diffs")
	// ErrNoFetcher is returned by NewBook for a ResyncFetch rule without a
	// Fetcher.
	ErrNoFetcher = errors.New("book: rule needs a Fetcher")
	// ErrNoSymbol is returned by NewBook without a symbol.
	ErrNoSymbol = errors.New("book: no symbol")
	// ErrMaxLevels is returned (wrapped) by NewBook for an
	// Options.MaxLevels below the rule's ChecksumDepth (OKX 25, Kraken
	// 10): a side cut there could never match the venue's checksum.
	ErrMaxLevels = errors.New("book: Options.MaxLevels below the levels the venue's checksum covers")
)

// DepthError is a book depth [Rule.WithDepth] refuses: one the venue
// does not offer (Offered lists those a book can be kept at), one whose
// channel is no book stream (OKX 1: bbo-tbt, read as schema.EventBBO
// events), or any depth of a venue whose stream is the whole book
// (Binance, Coinbase: Offered is nil).
type DepthError struct {
	Venue   schema.Venue
	Depth   int
	Offered []int  // the depths a book of the venue can be kept at
	Reason  string // why, beyond "not offered"; "" when the venue offers no such depth
}

func (e *DepthError) Error() string {
	if e.Offered == nil {
		return fmt.Sprintf("book: %s streams the whole book: no depth to choose", e.Venue)
	}
	s := fmt.Sprintf("book: %s offers no book depth %d (%v)", e.Venue, e.Depth, e.Offered)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// FetchError is a snapshot the venue refused to serve (an HTTP status
// other than 200). RetryAfter is the wait the venue asked for in its
// Retry-After header, 0 when it sent none: Binance sends it with 429
// (request rate limit broken) and 418 (IP banned for going on after a
// 429), the seconds to wait to prevent a ban or until it ends (Binance
// "General API Information", "LIMITS"). A book waits at least that long
// before it fetches again, whatever its Options.RetryInterval.
type FetchError struct {
	Symbol     string
	Status     int
	RetryAfter time.Duration
	Body       string // the start of the venue's answer
}

func (e *FetchError) Error() string {
	s := fmt.Sprintf("book: fetching %s snapshot: HTTP %d: %.200s", e.Symbol, e.Status, e.Body)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// SnapshotSizeError is a snapshot whose body is longer than the
// [BinanceREST].MaxBody bytes a fetch reads.
type SnapshotSizeError struct {
	Symbol string
	Limit  int64 // bytes read before giving up
}

func (e *SnapshotSizeError) Error() string {
	return fmt.Sprintf("book: fetching %s snapshot: body longer than %d bytes", e.Symbol, e.Limit)
}

// Why a book invalidated itself; the text is the gap marker's
// Control.Reason.
const (
	ReasonGap       = "book: sequence gap"
	ReasonChecksum  = "book: checksum mismatch"
	ReasonReconnect = "book: connection lost"
	ReasonUpstream  = "book: events lost upstream"
	// ReasonCrossed: the best bid reached the best ask (crossed, or
	// locked at one price) after a snapshot or diff (Stats.Crossed). No
	// venue's matching engine leaves a book so, so the book is wrong even
	// where its checksum matched, and where the venue sends none (Binance,
	// Bybit, Coinbase, OKX's "checksum":0) nothing else would tell.
	ReasonCrossed = "book: crossed after update"
	// ReasonRange: the best bid or ask of a fetched (ResyncFetch) book
	// moved beyond the worst level of its snapshot (or left no level: the
	// diffs deleted every level it held of a side the snapshot truncated),
	// where the book holds only the levels that changed since (Binance
	// REST snapshots hold the best Limit levels; the diff stream sends
	// changes only), or the best
	// bid or ask of any book beyond the worst level a side kept when it
	// was cut to Options.MaxLevels.
	ReasonRange = "book: top beyond its snapshot's range"
	// ReasonSilent: a live book applied no message for Options.MaxSilence
	// (Stats.Silences). Not a loss the book knows of — its last state
	// stays readable, and the next message of its stream makes it live
	// again — but a book that cannot tell a quiet market from a stream
	// that stopped must not be traded on as current.
	ReasonSilent = "book: stream silent"
	// ReasonReplaced: [Books.Add] replaced the book. Its markers about
	// the tops it published ([Book.PublishTop]) carry it, with the
	// withdrawal of its best bid/offer: the replaced book is fed nothing
	// more, and the new one publishes nothing before it is live. Not a
	// loss of diffs: no marker about them.
	ReasonReplaced = "book: replaced"
	// ReasonAddedAgain: a book [Books.Add] replaced, fed nothing since,
	// was added again. Every message routed to the book in its place
	// meanwhile missed it, so its levels are stale however live it was
	// when replaced: a loss of diffs, like a gap — the book is
	// invalidated and resynchronises (Books.Add).
	ReasonAddedAgain = "book: replaced, then added again"
)
