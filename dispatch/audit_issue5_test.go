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

// Audit of issue 5 ("0 allocations with no subscriber; one allocation per
// subscriber clone is the target") and of the README's first paragraph:
// "your subscribers' copies of an event are one allocation per event for up
// to 138 of them". Counted through Publish with real subscriber goroutines
// (AllocsPerRun counts every goroutine's allocations); not under -race, whose
// detector allocates on its own.
func TestAuditPublishAllocations(t *testing.T) {
	for _, c := range []struct {
		subs int
		want float64
	}{{0, 0}, {1, 1}, {138, 1}} {
		pools := schema.NewPools(nil)
		d := dispatch.New(pools.Events, nil)
		for range c.subs {
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
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventTrade, seq
			ev.Trade.Price = schema.NewDecimal(6700001, 2)
			ev.Trade.Qty = schema.NewDecimal(1, 3)
			if err := d.Publish(ctx, ev); err != nil {
				panic(err)
			}
		}
		publish()
		got := testing.AllocsPerRun(200, publish)
		assert.Equal(t, c.want, got, "%d subscribers", c.subs)
		require.NoError(t, d.Close(ctx))
		require.NoError(t, pools.Shutdown(ctx))
	}
}
