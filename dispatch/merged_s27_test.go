package dispatch

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// S27: a merged subscription that falls behind holds a consolidated view
// per symbol (latest-wins) and up to Bound windows. Queueing the next
// merged event must not look through everything queued, under the lock
// every PublishMerged to it takes: a view looked for its queued one from
// the head of the line (behind up to Bound windows), and a window past the
// bound looked for the oldest window behind the views — O(queued) per
// publish. What is delivered is unchanged: arrival order, a view replaced
// in place keeping its place, the oldest windows dropped.
func TestS27MergedQueueingIsO1(t *testing.T) {
	mp := pool.New("merged", 8, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	d := New(newEventPool(1), &Options{Merged: mp})
	const bound, symbols = 64, 2000
	s, err := d.SubscribeMerged(MergedFilter{}, &MergedOptions{Bound: bound})
	require.NoError(t, err)
	ctx := context.Background()
	var id uint64
	pub := func(sym string, typ schema.EventType, window bool) {
		m, err := mp.TryGet()
		require.NoError(t, err)
		id++
		m.Symbol, m.Type, m.MergeID = sym, typ, id
		if window {
			m.WindowOpen, m.WindowClose = int64(id), int64(id)+1
		}
		require.NoError(t, d.PublishMerged(ctx, m))
	}
	pub("FIRST", schema.EventTrade, true) // the goroutine holds it, unread
	eventually(t, func() bool { return s.Stats().Depth == 0 }, "the first one taken")
	for range bound * 2 { // windows: all dropped by the later ones
		pub("W", schema.EventTrade, true)
	}
	for i := range symbols { // a view per symbol, behind the windows
		pub("S-"+strconv.Itoa(i), schema.EventBBO, false)
	}
	for i := range symbols { // each replaced in place
		pub("S-"+strconv.Itoa(i), schema.EventBBO, false)
	}
	for range bound { // windows behind the views: the older ones dropped
		pub("W2", schema.EventTrade, true)
	}
	s.mu.Lock()
	scanned := s.scanned
	s.mu.Unlock()
	published := uint64(1 + 2*bound + 2*symbols + bound)
	require.LessOrEqual(t, scanned, 2*published, "queueing looked through what was queued")

	require.NoError(t, d.Close(ctx)) // a channel subscription: C is read to its end
	var got []*schema.MergedEvent
	for m := range s.C() {
		got = append(got, m)
	}
	require.Equal(t, uint64(1), got[0].MergeID)
	got = got[1:]
	// The views first (the windows queued before them were all dropped
	// by the later ones), each its latest, in the order first queued; then
	// the last bound windows.
	require.Len(t, got, symbols+bound)
	for i := range symbols {
		require.Equal(t, "S-"+strconv.Itoa(i), got[i].Symbol)
		require.Equal(t, uint64(1+2*bound+symbols+i+1), got[i].MergeID, "not the latest view")
	}
	for i, m := range got[symbols:] {
		require.Equal(t, "W2", m.Symbol)
		require.Equal(t, uint64(1+2*bound+2*symbols+i+1), m.MergeID)
	}
	require.Equal(t, uint64(symbols), s.Stats().Coalesced)
	require.Equal(t, uint64(2*bound), s.Stats().Dropped)
}
