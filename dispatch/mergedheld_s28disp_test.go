package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS28HeldMergedViewsBoundedByKeys: a merged subscriber held still
// keeps one queued view per (source, symbol, type) — one per merge.Merger
// (a Merger makes the views of one symbol, its Source unique in the
// process) — however many views each publishes: what it holds grows with
// the Mergers the host made, never with the publishes, and each key's
// latest is what it gets when it reads again. An Unsubscribe while they
// wait releases them all.
func TestS28HeldMergedViewsBoundedByKeys(t *testing.T) {
	d, merged := newMergedDispatcher(t)
	s, err := d.SubscribeMerged(MergedFilter{}, nil)
	require.NoError(t, err)
	ctx := context.Background()
	// One in the goroutine's hand, blocked on C: the queue holds the rest.
	require.NoError(t, d.PublishMerged(ctx, takeMerged(t, merged, "BTC-USDT", schema.EventTrade, 0)))
	require.Eventually(t, func() bool { return s.Stats().Depth == 0 }, patience, time.Millisecond)
	const sources, rounds = 8, 50
	symbols := []string{"BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT"}
	type key struct {
		source uint64
		symbol string
	}
	last := map[key]uint64{}
	id := uint64(0)
	for range rounds {
		for src := uint64(1); src <= sources; src++ {
			for _, sym := range symbols {
				id++
				m := takeMerged(t, merged, sym, schema.EventBBO, id)
				m.Source = src
				require.NoError(t, d.PublishMerged(ctx, m))
				last[key{src, sym}] = id
			}
		}
		require.LessOrEqual(t, s.Stats().Depth, sources*len(symbols), "views queued beyond one per (source, symbol, type)")
	}
	require.Equal(t, sources*len(symbols), s.Stats().Depth)
	require.Equal(t, uint64((rounds-1)*sources*len(symbols)), s.Stats().Coalesced)
	require.Equal(t, uint64(0), (<-s.C()).MergeID)
	got := map[key]uint64{}
	for range sources * len(symbols) {
		m := <-s.C()
		k := key{m.Source, m.Symbol}
		require.Greater(t, m.MergeID, got[k], "a view older than one delivered")
		got[k] = m.MergeID
	}
	require.Equal(t, last, got, "a key's latest view not delivered")

	// Held again, then unsubscribed with views queued: released, counted.
	for src := uint64(1); src <= sources; src++ {
		m := takeMerged(t, merged, "BTC-USDT", schema.EventBBO, 0)
		m.Source = src
		require.NoError(t, d.PublishMerged(ctx, m))
	}
	require.Eventually(t, func() bool { return s.Stats().Depth == sources-1 }, patience, time.Millisecond)
	require.NoError(t, d.UnsubscribeMerged(s))
	<-s.Done()
	require.Equal(t, uint64(sources), s.Stats().Discarded) // sources-1 queued and the one in hand
	closeDispatcher(t, d)
	require.Zero(t, merged.Stats().InUse)
}
