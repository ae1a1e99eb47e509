//go:build !race

package dispatch_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// The package doc's slab counts for an event with book levels: "414 with a
// 256-byte tail — 14 levels —, 158 with 1,152 bytes (64 levels), 12 with
// 18 KiB (1,024 levels)", "one for N ≤ 414 with a small book diff, one more
// per further slab" (120, 65 and 7 before the compact event, #15; 372 with
// the 448-byte event; 376, 65 and 7 with the 440-byte event and 32-byte
// levels). The README
// said "one allocation per event for up to 138" of every kind; s32ct
// measured 2 for a 3-level diff at 122..138 subscribers. Counted through
// Publish with real subscriber goroutines; not under -race (its detector
// allocates).
func TestS32SlabCountsWithBookLevels(t *testing.T) {
	for _, c := range []struct {
		levels, subs int
		want         float64
	}{{3, 414, 1}, {3, 415, 2}, {64, 158, 1}, {64, 159, 2}, {1024, 12, 1}, {1024, 13, 2}} {
		got := publishAllocs(t, c.subs, 100, func(ev *schema.CanonicalEvent, seq uint64) {
			ev.Type = schema.EventBookUpdate
			ev.Book.FirstSeq, ev.Book.LastSeq = seq, seq
			for i := range c.levels {
				lv := schema.Level{Price: schema.NewDecimal(int64(6700000+i), 2), Qty: schema.NewDecimal(1, 3)}
				if i%2 == 0 {
					ev.Book.Bids = append(ev.Book.Bids, lv)
				} else {
					ev.Book.Asks = append(ev.Book.Asks, lv)
				}
			}
		})
		assert.Equal(t, c.want, got, "%d levels to %d subscribers", c.levels, c.subs)
	}
}

// publishAllocs counts, with dispatch.AllocsPerRun over runs publishes,
// the allocations of publishing a Binance BTC-USDT event that fill sets up
// (its sequence seq) to subs subscribers with real goroutines (every
// goroutine's allocations count but the runtime's sudogs, which a loaded
// machine's collections made count 2 for 1 here; not under -race, whose
// detector allocates on its own). The dispatcher and its pools are closed
// after.
func publishAllocs(t *testing.T, subs, runs int, fill func(ev *schema.CanonicalEvent, seq uint64)) float64 {
	t.Helper()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	for range subs {
		_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
		require.NoError(t, err)
	}
	ctx := context.Background()
	var seq uint64
	publish := func() {
		ev, err := pools.Events.Get(ctx)
		if err != nil {
			panic(err)
		}
		seq++
		ev.Venue, ev.Symbol, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", seq
		fill(ev, seq)
		if err := d.Publish(ctx, ev); err != nil {
			panic(err)
		}
	}
	publish()
	got := dispatch.AllocsPerRun(t, runs, publish)
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))
	return got
}
