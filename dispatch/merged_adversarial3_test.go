package dispatch_test

// Adversarial tests, third round: the MergedEvent lane from the outside,
// on random traffic from several publishing goroutines and a subscriber
// that falls behind — views latest-wins per (symbol, type) and never
// going back, windows in order and dropped oldest-first, counted exactly.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

func TestAdversarial3MergedLaneModel(t *testing.T) {
	t.Parallel()
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			events := adv3Pool(1)
			merged := pool.New("adv3-merged", 4, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
			d := dispatch.New(events, &dispatch.Options{Merged: merged})
			bound := 1 + int(seed)*3
			permits := make(chan struct{}, 1<<20)
			var mu sync.Mutex
			var got []*schema.MergedEvent
			s, err := d.SubscribeMerged(dispatch.MergedFilter{}, &dispatch.MergedOptions{Bound: bound, Handler: func(m *schema.MergedEvent) {
				<-permits
				mu.Lock()
				got = append(got, m)
				mu.Unlock()
			}})
			require.NoError(t, err)

			symbols := []string{"BTC-USDT", "ETH-USDT"}
			type pubKey struct {
				sym  string
				view bool
			}
			var pubMu sync.Mutex
			last := map[pubKey]uint64{} // the latest MergeID published
			windows := 0
			var wg sync.WaitGroup
			for g, sym := range symbols { // one publisher per symbol: its order is the symbol's
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(seed, uint64(g)))
					for i := range 2000 {
						m, err := merged.Get(context.Background())
						require.NoError(t, err)
						m.Symbol, m.Type, m.MergeID = sym, schema.EventBBO, uint64(i+1)
						view := rng.IntN(2) == 0
						if view {
							m.WindowOpen, m.WindowClose = int64(i), int64(i)
						} else {
							m.WindowOpen, m.WindowClose = int64(i), int64(i+1)
							m.Fragments = append(m.Fragments, schema.Fragment{Venue: adv3Venue, Symbol: sym, Type: schema.EventBBO, ExchangeTS: int64(i)})
						}
						require.NoError(t, d.PublishMerged(context.Background(), m))
						pubMu.Lock()
						last[pubKey{sym, view}] = uint64(i + 1)
						if !view {
							windows++
						}
						pubMu.Unlock()
						if rng.IntN(3) == 0 {
							permits <- struct{}{}
						}
					}
				})
			}
			wg.Wait()
			close(permits)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			require.NoError(t, d.Close(ctx))
			st := s.Stats()

			seen := map[pubKey]uint64{}
			delivered := 0
			for _, m := range got {
				require.NoError(t, m.Validate())
				k := pubKey{m.Symbol, m.View()}
				require.Greater(t, m.MergeID, seen[k], "%v: %d after %d", k, m.MergeID, seen[k])
				seen[k] = m.MergeID
				if !k.view {
					delivered++
					require.Len(t, m.Fragments, 1, "a window's own fragments")
					require.Equal(t, m.WindowOpen, m.Fragments[0].ExchangeTS)
				}
			}
			for _, sym := range symbols {
				require.Equal(t, last[pubKey{sym, true}], seen[pubKey{sym, true}], "%s: the latest view arrives", sym)
				// (Windows share one FIFO across symbols: the latest of a
				// symbol that went quiet may be dropped for another's.)
			}
			require.Equal(t, windows, delivered+int(st.Dropped), "every window delivered or counted dropped: %+v", st)
			require.Positive(t, st.Dropped)
			require.Positive(t, st.Coalesced)
			require.Equal(t, uint64(len(got)), st.Delivered)
			require.Zero(t, st.Discarded)
			require.Zero(t, merged.Stats().InUse)
		})
	}
}
