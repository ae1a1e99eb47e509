package dispatch

// Adversarial tests, second round (reviewer R4): the MergedEvent lane with
// a live reader that keeps falling behind and catching up.

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Views of several symbols and windows, published while the reader reads
// in random bursts: windows arrive in order, each at most once, and every
// window is delivered or counted dropped; each symbol's views arrive in
// order, never one older than a view already seen, and the last one
// delivered is the last published — a slow reader always ends on the
// latest consolidated view.
func TestAdversarial2MergedLaneLiveReader(t *testing.T) {
	t.Parallel()
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 19))
		mp := pool.New("merged", 4, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
		d := New(newEventPool(1), &Options{Merged: mp})
		bound := 1 + rng.IntN(5)
		permits := make(chan struct{}, 1<<16)
		var got []*schema.MergedEvent
		ms, err := d.SubscribeMerged(MergedFilter{}, &MergedOptions{Bound: bound, Handler: func(m *schema.MergedEvent) {
			got = append(got, m)
			<-permits
		}})
		require.NoError(t, err)
		symbols := []string{"A", "B", "C"}
		lastView := map[string]uint64{}
		windows := 0
		for id := uint64(1); id <= 2000; id++ {
			m, err := mp.TryGet()
			require.NoError(t, err)
			m.MergeID, m.Symbol = id, symbols[rng.IntN(len(symbols))]
			if rng.IntN(2) == 0 {
				m.Type = schema.EventBBO
				lastView[m.Symbol] = id
			} else {
				m.Type = schema.EventTrade
				windows++
			}
			require.NoError(t, d.PublishMerged(context.Background(), m))
			if rng.IntN(5) == 0 {
				for range rng.IntN(4) {
					permits <- struct{}{}
				}
			}
		}
		close(permits)
		closeDispatcher(t, d)
		var prevWindow uint64
		seenView := map[string]uint64{}
		delivered := 0
		for _, m := range got {
			if m.Type == schema.EventBBO {
				require.Greater(t, m.MergeID, seenView[m.Symbol], "seed %d: %s's view went back", seed, m.Symbol)
				seenView[m.Symbol] = m.MergeID
				continue
			}
			require.Greater(t, m.MergeID, prevWindow, "seed %d: windows out of order or twice", seed)
			prevWindow = m.MergeID
			delivered++
		}
		require.Equal(t, lastView, seenView, "seed %d: a symbol's latest view never delivered", seed)
		st := ms.Stats()
		require.Equal(t, uint64(windows), uint64(delivered)+st.Dropped, "seed %d: windows unaccounted for", seed)
		require.Positive(t, st.Dropped, "seed %d: the reader never fell behind", seed)
		require.Zero(t, mp.Stats().InUse)
	}
}
