package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// krakenSnapCase is a Kraken v2 book-10 snapshot whose values show fewer
// digits than the pair's precision (JSON numbers without their trailing
// zeros), with the venue's checksum at that precision.
func krakenSnapCase(tb testing.TB, px, qty int, wrong bool) *schema.CanonicalEvent {
	tb.Helper()
	ev := &schema.CanonicalEvent{Venue: schema.VenueKraken, Symbol: "MATIC-USD", Type: schema.EventBookSnapshot}
	for i := range 10 {
		// Prices 0.566, 0.5661 … (3 or 4 digits), quantities 1.5, 20 …
		ev.Book.Asks = append(ev.Book.Asks, schema.Level{Price: schema.NewDecimal(int64(5670+i), 4), Qty: schema.NewDecimal(int64(15+10*i), 1)})
		ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.NewDecimal(int64(566-i), 3), Qty: schema.NewDecimal(int64(20+i), 0)})
	}
	truth := KrakenV2
	truth.PriceScale, truth.QtyScale = px, qty
	tb2, err := NewBook(truth, "MATIC-USD", nil)
	require.NoError(tb, err)
	require.NoError(tb, tb2.Apply(context.Background(), ev))
	sum, _ := ChecksumKraken.sum(tb2, nil)
	if wrong {
		sum ^= 1
	}
	ev.Book.Checksum, ev.Book.HasChecksum = sum, true
	return ev
}

// BenchmarkKrakenSnapshotChecksum measures one Kraken v2 book-10 snapshot
// applied and checked: with the pair's precision given (one checksum),
// learned from the venue's checksum (a search from the digits shown), and
// a checksum no precision explains (the whole search, then a mismatch).
// Compare the lines of one run only (benchstat).
func BenchmarkKrakenSnapshotChecksum(b *testing.B) {
	for _, c := range []struct {
		name     string
		given    bool
		px, qty  int
		mismatch bool
	}{
		{"given/4-8", true, 4, 8, false},
		{"learned/4-8", false, 4, 8, false},
		{"learned/10-10", false, 10, 10, false},
		{"unexplained", false, 4, 8, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			ev := krakenSnapCase(b, c.px, c.qty, c.mismatch)
			rule := KrakenV2
			if c.given {
				rule.PriceScale, rule.QtyScale = c.px, c.qty
			}
			bk, err := NewBook(rule, "MATIC-USD", nil)
			require.NoError(b, err)
			ctx := context.Background()
			require.NoError(b, bk.Apply(ctx, ev))
			require.Equal(b, !c.mismatch, bk.Live())
			b.ReportAllocs()
			for b.Loop() {
				if err := bk.Apply(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
