package natsbridge

import (
	"strings"

	"github.com/meltica/meltica/schema"
)

// DefaultPrefix is the first token of every subject.
const DefaultPrefix = "meltica"

// Subject returns the subject an event of venue, symbol and type is published
// on: prefix.venue.symbol.type, for example
// "meltica.binance.BTC-USDT.trade". The type is its String form
// ("book_update", "exec_report"). A symbol is a single token: characters that
// NATS gives a meaning ('.', '*', '>', whitespace) become '_', and an empty
// symbol (connection states, venue-wide control) is "_". '-' is an ordinary
// character in NATS subjects and is kept. The event itself carries the exact
// symbol; the subject is only for routing.
func Subject(prefix string, venue schema.Venue, symbol string, t schema.EventType) string {
	return prefix + "." + token(string(venue)) + "." + token(symbol) + "." + t.String()
}

func token(s string) string {
	if s == "" {
		return "_"
	}
	if strings.ContainsAny(s, ".*> \t\r\n") {
		return strings.Map(func(r rune) rune {
			switch r {
			case '.', '*', '>', ' ', '\t', '\r', '\n':
				return '_'
			}
			return r
		}, s)
	}
	return s
}

// streamKey names one stream of events.
type streamKey struct {
	venue  schema.Venue
	symbol string
	typ    schema.EventType
}

// stream is what the publisher keeps per stream: its subject, built once, and
// the bridge sequence of its last message.
type stream struct {
	subject string
	seq     uint64
}
