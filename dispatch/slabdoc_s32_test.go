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

// The package doc's slab counts for an event with book levels: "376 with a
// 256-byte tail — 8 levels —, 105 with 2 KiB, 7 with 32 KiB", "one for
// N ≤ 376 with a small book diff, one more per further slab" (120, 65 and
// 7 before the compact event, #15; 372 with the 448-byte event). The README
// said "one allocation per event for up to 138" of every kind; s32ct
// measured 2 for a 3-level diff at 122..138 subscribers. Counted through
// Publish with real subscriber goroutines; not under -race (its detector
// allocates).
func TestS32SlabCountsWithBookLevels(t *testing.T) {
	for _, c := range []struct {
		levels, subs int
		want         float64
	}{{3, 376, 1}, {3, 377, 2}, {64, 105, 1}, {64, 106, 2}, {1024, 7, 1}, {1024, 8, 2}} {
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
