package book

import "errors"

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

// Why a book invalidated itself; the text is the gap marker's
// Control.Reason.
const (
	ReasonGap       = "book: sequence gap"
	ReasonChecksum  = "book: checksum mismatch"
	ReasonReconnect = "book: connection lost"
	ReasonUpstream  = "book: events lost upstream"
	ReasonCrossed   = "book: crossed after update"
)
