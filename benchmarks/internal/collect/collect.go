// Package collect runs frames through Meltica's Binance parser for the
// benchmarks' tests and keeps a heap clone of every event it emits.
package collect

import (
	"context"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// Parser is what the tests use of a parser.
type Parser interface {
	HandleBytes(ctx context.Context, data []byte, receivedAt int64) error
}

// Binance returns a Binance parser that appends a clone of every event it
// emits to *got and returns the pooled original.
func Binance(got *[]*schema.CanonicalEvent) Parser {
	ps := schema.NewPools(nil)
	return normalize.NewBinance(ps.Events, normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		*got = append(*got, ev.Clone())
		ps.Events.Put(ev)
		return nil
	}), nil)
}
