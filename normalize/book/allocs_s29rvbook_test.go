package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// The contract of 0 allocations per diff holds on the paths s29 added: a
// side cut to MaxLevels on every diff (the worst level goes, the range
// moves) and levels beyond a fetched book's range dropped.
func TestZeroAllocsPerDiffCutAndDropped(t *testing.T) {
	for _, rule := range []Rule{Coinbase, Binance} {
		t.Run(string(rule.Venue), func(t *testing.T) {
			events := schema.NewPools(nil).Events
			o := &Options{Sink: &sinkPut{events: events}, Events: events, MaxLevels: 500}
			if rule.Resync == ResyncFetch {
				o.Fetcher = FetcherFunc(func(context.Context, string, *schema.CanonicalEvent) error { return nil })
			}
			b, err := NewBook(rule, "BTC-USDT", o)
			require.NoError(t, err)
			snap := &schema.CanonicalEvent{Venue: rule.Venue, Symbol: "BTC-USDT", Type: schema.EventBookSnapshot}
			for i := range 500 {
				snap.Book.Bids = append(snap.Book.Bids, schema.Level{Price: schema.NewDecimal(int64(300000000-i*1000), 4), Qty: schema.NewDecimal(1, 0)})
				snap.Book.Asks = append(snap.Book.Asks, schema.Level{Price: schema.NewDecimal(int64(300001000+i*1000), 4), Qty: schema.NewDecimal(1, 0)})
			}
			snap.Book.LastSeq = 1000
			ctx := context.Background()
			require.NoError(t, b.Apply(ctx, snap))
			require.True(t, b.Live())
			d := &schema.CanonicalEvent{Venue: rule.Venue, Symbol: "BTC-USDT", Type: schema.EventBookUpdate}
			d.Book.Bids = make([]schema.Level, 2)
			d.Book.Asks = []schema.Level{{Price: schema.NewDecimal(900000000, 4), Qty: schema.NewDecimal(1, 0)}} // far beyond the asks kept
			seq, k := uint64(1000), int64(0)
			next := func() {
				k++
				seq++
				d.Book.FirstSeq, d.Book.LastSeq = seq, seq
				d.Book.Bids[0] = schema.Level{Price: schema.NewDecimal(300000000-k, 4), Qty: schema.NewDecimal(1, 0)} // a new level under the best: the worst bid goes
				d.Book.Bids[1] = schema.Level{Price: schema.NewDecimal(1+k, 4), Qty: schema.NewDecimal(1, 0)}         // far beyond the bids kept
				if err := b.Apply(ctx, d); err != nil {
					panic(err)
				}
			}
			next()
			allocs := testing.AllocsPerRun(200, next)
			require.Zero(t, allocs)
			require.True(t, b.Live())
			require.Zero(t, b.Stats().Invalidations)
			b.mu.Lock()
			nb, na, floor := b.bids.len(), b.asks.len(), b.floor
			b.mu.Unlock()
			require.Equal(t, 500, nb)
			require.Equal(t, 500, na, "the far ask was kept")
			require.True(t, floor.Cmp(schema.NewDecimal(300000000-499*1000, 4)) > 0, "the bids were never cut")
		})
	}
}
