package normalize

import (
	"errors"

	"github.com/meltica/meltica/schema"
)

// Sentinel errors. A message that fails to parse yields a [*ParseError]
// whose Err is, or wraps, one of these (or a [*schema.DecimalError]).
var (
	// ErrMalformed: the message is not the JSON the venue documents.
	ErrMalformed = errors.New("normalize: malformed message")
	// ErrMissingField: a field the message type requires is absent.
	ErrMissingField = errors.New("normalize: missing field")
	// ErrBadValue: a field holds a value of the wrong kind or out of range.
	ErrBadValue = errors.New("normalize: bad value")
	// ErrNegative: a price or quantity is negative.
	ErrNegative = errors.New("normalize: negative price or quantity")
	// ErrUnknownSymbol: the venue symbol is neither in the instrument
	// registry nor splittable by a known quote asset.
	ErrUnknownSymbol = errors.New("normalize: unknown symbol")
	// ErrDropped: the event pool was exhausted (market data, which is not
	// waited for) or the context ended while waiting for an event.
	ErrDropped = errors.New("normalize: event dropped")
	// ErrNoSnapshot: a delta (Bybit tickers) came before any snapshot of
	// its symbol, so there is nothing complete to merge it into.
	ErrNoSnapshot = errors.New("normalize: delta before any snapshot")
	// ErrUnsupported: an order cannot be expressed on the venue.
	ErrUnsupported = errors.New("normalize: unsupported order")
	// ErrTooManyStreams: a book message of a stream the parser cannot
	// follow: it follows the continuity of at most 65,536 book streams
	// (symbol and view) a connection, and a diff whose sequence is not
	// checked would serve a broken book silently (Stats.Untracked).
	ErrTooManyStreams = errors.New("normalize: too many book streams on one connection")
)

// presence is the error of a required key that was not sent
// (ErrMissingField) or was sent with a value the venue does not document
// (ErrBadValue).
func presence(sent bool) error {
	if sent {
		return ErrBadValue
	}
	return ErrMissingField
}

// ParseError says which venue message and field could not be normalised.
// The message is dropped and counted; nothing else is affected, so a frame
// handler should log it and carry on reading.
type ParseError struct {
	Venue  schema.Venue
	Stream string // message type ("trade", "depthUpdate", ...) or "envelope"
	Field  string // the venue's field name; empty for the message as a whole
	Err    error
}

func (e *ParseError) Error() string {
	s := "normalize: " + string(e.Venue) + " " + e.Stream
	if e.Field != "" {
		s += " field " + e.Field
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }
