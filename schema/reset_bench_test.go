package schema_test

import (
	"context"
	"testing"

	"github.com/meltica/meltica/schema"
)

// BenchmarkEventReset is the pool cycle's Reset of a CanonicalEvent made
// by hand (no kept storage): a trade.
func BenchmarkEventReset(b *testing.B) {
	e := &schema.CanonicalEvent{}
	b.ReportAllocs()
	for b.Loop() {
		e.Type = schema.EventTrade
		e.Trade.Side = schema.SideBuy
		e.Reset()
	}
}

// benchLevels is a book diff's ten levels a side; benchPrice a price.
var (
	benchLevels = make([]schema.Level, 10)
	benchPrice  = schema.MustParseDecimal("67321.45")
)

// benchFills fill a pooled event as a parser does: a trade, a book diff
// of ten levels a side, an execution report. The old layout (main
// c7db293b, every section by value) wrote ev.Exec.Status in place of
// ev.UseExec().Status; the names match so benchstat compares the two.
var benchFills = []struct {
	name string
	fill func(ev *schema.CanonicalEvent)
}{
	{"trade", func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventTrade
		ev.Trade.Side, ev.Trade.Price = schema.SideBuy, benchPrice
	}},
	{"bookdiff", func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventBookUpdate
		ev.Book.Bids = append(ev.Book.Bids, benchLevels...)
		ev.Book.Asks = append(ev.Book.Asks, benchLevels...)
		ev.Book.FirstSeq, ev.Book.LastSeq = 1, 2
	}},
	{"exec", func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventExecReport
		x := ev.UseExec()
		x.Status, x.ExecType, x.Price = schema.StatusNew, schema.ExecNew, benchPrice
	}},
}

// BenchmarkPooledEventReset is issue #15's "pool cycle of an event":
// filling a pooled event and resetting it. Measured on main c7db293b (old:
// every section by value, Reset zeroes 1,928 bytes) against the compact
// layout; see CanonicalEvent.Reset for the numbers and the command.
func BenchmarkPooledEventReset(b *testing.B) {
	for _, f := range benchFills {
		b.Run(f.name, func(b *testing.B) {
			events := schema.NewPools(nil).Events
			ev, err := events.Get(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				f.fill(ev)
				ev.Reset()
			}
			events.Put(ev)
		})
	}
}

// BenchmarkPooledEventCycle is the same through the pool: fill, Put (which
// resets), Get.
func BenchmarkPooledEventCycle(b *testing.B) {
	for _, f := range benchFills {
		b.Run(f.name, func(b *testing.B) {
			events := schema.NewPools(nil).Events
			ctx := context.Background()
			ev, err := events.Get(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				f.fill(ev)
				events.Put(ev)
				if ev, err = events.Get(ctx); err != nil {
					b.Fatal(err)
				}
			}
			events.Put(ev)
		})
	}
}
