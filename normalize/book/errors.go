package book

import (
	"errors"
	"fmt"
	"time"
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
)

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

// Why a book invalidated itself; the text is the gap marker's
// Control.Reason.
const (
	ReasonGap       = "book: sequence gap"
	ReasonChecksum  = "book: checksum mismatch"
	ReasonReconnect = "book: connection lost"
	ReasonUpstream  = "book: events lost upstream"
	ReasonCrossed   = "book: crossed after update"
)
