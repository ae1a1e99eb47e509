package dispatch

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS28rvRouteStoreModel drives the route store shared by the indexes
// of one dispatcher with random Subscribes (runs of up to 3×maxChanges
// between two looks at a stream), Unsubscribes, lookups through the
// current index and through indexes loaded before the last changes (a
// Publish that raced a Subscribe or an Unsubscribe), and generations
// turning over (a small limit), and compares each route with matching
// every subscription of the index the lookup used.
func TestS28rvRouteStoreModel(t *testing.T) {
	discard := &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}}
	venues := []schema.Venue{bin, okx}
	types := []schema.EventType{schema.EventTrade, schema.EventBBO, schema.EventBookUpdate, schema.EventExecReport}
	var keys []routeKey
	for i := range 24 {
		keys = append(keys, routeKey{venue: venues[i%2], symbol: "S" + strconv.Itoa(i%6), typ: types[i/6%4], depth: i % 3 * 50})
	}
	keys = append(keys, routeKey{venue: bin, symbol: "S1", anyType: true}, routeKey{venue: okx, anyType: true})
	match := func(ix *index, k routeKey) []*Subscription {
		var out []*Subscription
		for _, s := range ix.subs {
			if s.m.match(k) {
				out = append(out, s)
			}
		}
		return out
	}
	small := func(ix *index) {
		ix.mu.Lock()
		if ix.floor != 4 {
			ix.limit, ix.floor, ix.ceil = 4, 4, 16
		}
		ix.mu.Unlock()
	}
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 1))
		d := New(newEventPool(8), nil)
		var live []*Subscription
		var held []*index // indexes loaded before later changes
		for step := range 1000 {
			small(d.idx.Load())
			switch r := rng.IntN(100); {
			case r < 10:
				n := 1
				if rng.IntN(10) == 0 {
					n = maxChanges + rng.IntN(maxChanges)
				}
				for range n {
					f := Filter{}
					if rng.IntN(2) == 0 {
						f.Venues = []schema.Venue{venues[rng.IntN(2)]}
					}
					if rng.IntN(2) == 0 {
						f.Symbols = []string{"S" + strconv.Itoa(rng.IntN(6))}
					}
					if rng.IntN(2) == 0 {
						f.Types = []schema.EventType{types[rng.IntN(4)]}
					}
					s, err := d.Subscribe(f, discard)
					require.NoError(t, err)
					live = append(live, s)
				}
			case r < 22 && len(live) > 0:
				if rng.IntN(10) == 0 { // past maxGone: the routes are swept
					for range maxGone {
						s, err := d.Subscribe(Filter{}, discard)
						require.NoError(t, err)
						require.NoError(t, d.Unsubscribe(s))
					}
				}
				i := rng.IntN(len(live))
				require.NoError(t, d.Unsubscribe(live[i]))
				live = append(live[:i], live[i+1:]...)
			case r < 32:
				held = append(held, d.idx.Load())
				if len(held) > 4 {
					held = held[1:]
				}
			case r < 42 && len(held) > 0:
				ix := held[rng.IntN(len(held))]
				k := keys[rng.IntN(len(keys))]
				// A subscription gone since may have been swept out of
				// the route (sweepGone): it would queue nothing either way.
				listed := func(ss []*Subscription) []*Subscription {
					return slices.DeleteFunc(slices.Clone(ss), (*Subscription).unlisted)
				}
				require.Equal(t, listed(match(ix, k)), listed(ix.route(k)), "seed %d step %d: a held index's route of %+v", seed, step, k)
			default:
				ix := d.idx.Load()
				k := keys[rng.IntN(len(keys))]
				require.Equal(t, match(ix, k), ix.route(k), "seed %d step %d: route of %+v", seed, step, k)
			}
		}
		for _, s := range live {
			require.NoError(t, d.Unsubscribe(s))
		}
	}
}
