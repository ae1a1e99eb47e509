//go:build !race

package dispatch

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// TestS29rvPublishAllocsAfterUnsubscribes: routes kept across an
// Unsubscribe (s29disp) are brought up to date once per stream; from then
// on a Publish allocates nothing, after one Unsubscribe, after maxGone of
// them (the routes swept), and after a run past maxChanges.
func TestS29rvPublishAllocsAfterUnsubscribes(t *testing.T) {
	const streams = 200
	d, discard, publish, done := routeAllocs(t, streams)
	defer done()
	// A subscriber that wants none of these streams, so no clone: what
	// allocates is the routing alone.
	_, err := d.Subscribe(Filter{Venues: []schema.Venue{okx}}, discard)
	require.NoError(t, err)
	for _, gone := range []int{1, maxGone - 1, 1, maxChanges + 3} {
		var ss []*Subscription
		for range gone {
			s, err := d.Subscribe(Filter{}, discard) // in every route
			require.NoError(t, err)
			ss = append(ss, s)
		}
		for range streams {
			publish() // each stream's route learned with them
		}
		for _, s := range ss {
			require.NoError(t, d.Unsubscribe(s))
		}
		for range streams {
			publish() // each stream's route brought up to date
		}
		require.Zero(t, testing.AllocsPerRun(2*streams, publish), "after %d Unsubscribes", gone)
	}
}

// routeAllocs returns a dispatcher of its own pools, a handler's options
// that discard, quoteInTurn of streams symbols, and what closes them.
func routeAllocs(t *testing.T, streams int) (*Dispatcher, *SubscribeOptions, func(), func()) {
	pools := schema.NewPools(nil)
	d := New(pools.Events, nil)
	return d, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}}, quoteInTurn(d, pools.Events, streams), func() {
		require.NoError(t, d.Close(context.Background()))
		require.NoError(t, pools.Shutdown(context.Background()))
	}
}

// quoteInTurn returns a Publish of a pooled quote (bbo) of Binance symbol
// S-i, i going round streams symbols, that panics on an error (it runs
// under testing.AllocsPerRun).
func quoteInTurn(d *Dispatcher, events *pool.Pool[*schema.CanonicalEvent], streams int) func() {
	syms := make([]string, streams)
	for i := range syms {
		syms[i] = "S-" + strconv.Itoa(i)
	}
	n := 0
	return func() {
		ev, err := events.Get(context.Background())
		if err != nil {
			panic(err)
		}
		ev.Venue, ev.Symbol, ev.Type = bin, syms[n%streams], schema.EventBBO
		n++
		if err := d.Publish(context.Background(), ev); err != nil {
			panic(err)
		}
	}
}
