package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

func newMergedDispatcher(t *testing.T) (*Dispatcher, *pool.Pool[*schema.MergedEvent]) {
	t.Helper()
	merged := pool.New("merged", 16, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	d := New(newEventPool(4), &Options{Merged: merged})
	return d, merged
}

func takeMerged(t testing.TB, p *pool.Pool[*schema.MergedEvent], sym string, typ schema.EventType, id uint64) *schema.MergedEvent {
	t.Helper()
	m, err := p.TryGet()
	require.NoError(t, err)
	m.Symbol, m.Type, m.MergeID = sym, typ, id
	m.Fragments = append(m.Fragments, schema.Fragment{Venue: schema.VenueBinance, Symbol: sym, Type: typ})
	return m
}

// Merged events reach every matching subscriber as its own clone, the
// original goes back to its pool, and Close delivers what is queued.
func TestMergedLaneDelivers(t *testing.T) {
	t.Parallel()
	d, merged := newMergedDispatcher(t)
	ch, err := d.SubscribeMerged(MergedFilter{Symbols: []string{"BTC-USDT"}}, nil)
	require.NoError(t, err)
	got := make(chan *schema.MergedEvent, 8)
	_, err = d.SubscribeMerged(MergedFilter{Types: []schema.EventType{schema.EventTrade}}, &MergedOptions{Handler: func(m *schema.MergedEvent) { got <- m }})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, d.PublishMerged(ctx, takeMerged(t, merged, "BTC-USDT", schema.EventTrade, 1)))
	require.NoError(t, d.PublishMerged(ctx, takeMerged(t, merged, "ETH-USDT", schema.EventBBO, 2)))
	a := <-ch.C()
	b := <-got
	require.Equal(t, uint64(1), a.MergeID)
	require.Equal(t, uint64(1), b.MergeID)
	require.NotSame(t, a, b)
	require.False(t, a.Pooled())
	require.Zero(t, merged.Stats().InUse)
	require.Panics(t, func() { merged.Put(a) }, "a clone is no pool's")
	require.Equal(t, uint64(1), ch.Stats().Delivered)
	closeDispatcher(t, d)
	_, ok := <-ch.C()
	require.False(t, ok)
	_, err = d.SubscribeMerged(MergedFilter{}, nil)
	require.ErrorIs(t, err, ErrClosed)
	m := takeMerged(t, merged, "BTC-USDT", schema.EventTrade, 3)
	require.ErrorIs(t, d.PublishMerged(ctx, m), ErrClosed)
	require.Zero(t, merged.Stats().InUse, "returned on the error path too")
}

// A slow subscriber sees the latest consolidated best bid/offer (coalesced
// in place) and loses the oldest windows past its bound, counted.
func TestMergedLaneBackpressure(t *testing.T) {
	t.Parallel()
	d, merged := newMergedDispatcher(t)
	gate, entered := make(chan struct{}), make(chan *schema.MergedEvent, 64)
	s, err := d.SubscribeMerged(MergedFilter{}, &MergedOptions{Bound: 3, Handler: func(m *schema.MergedEvent) {
		entered <- m
		<-gate
	}})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, d.PublishMerged(ctx, takeMerged(t, merged, "BTC-USDT", schema.EventTrade, 1)))
	<-entered // the handler holds event 1
	for id := uint64(2); id <= 6; id++ {
		require.NoError(t, d.PublishMerged(ctx, takeMerged(t, merged, "BTC-USDT", schema.EventBBO, id)))
	}
	for id := uint64(7); id <= 10; id++ {
		require.NoError(t, d.PublishMerged(ctx, takeMerged(t, merged, "BTC-USDT", schema.EventTrade, id)))
	}
	st := s.Stats()
	require.Equal(t, uint64(4), st.Coalesced)
	require.Equal(t, uint64(2), st.Dropped)
	require.Equal(t, 3, st.Depth)
	close(gate)
	var ids []uint64
	for range 3 {
		ids = append(ids, (<-entered).MergeID)
	}
	require.Equal(t, []uint64{8, 9, 10}, ids, "the coalesced BBO (6) was the oldest: dropped first")
	closeDispatcher(t, d)
}

// Refusals: nil, a clone, an event of another pool, no Merged pool;
// unsubscribing twice; a Close that times out on a stuck handler.
func TestMergedLaneRefusals(t *testing.T) {
	t.Parallel()
	d, merged := newMergedDispatcher(t)
	ctx := context.Background()
	require.ErrorIs(t, d.PublishMerged(ctx, nil), ErrNilEvent)
	m := takeMerged(t, merged, "BTC-USDT", schema.EventTrade, 1)
	require.ErrorIs(t, d.PublishMerged(ctx, m.Clone()), ErrNotPooled)
	require.ErrorIs(t, New(newEventPool(1), nil).PublishMerged(ctx, m), ErrNotPooled)
	merged.Put(m)

	s, err := d.SubscribeMerged(MergedFilter{}, nil)
	require.NoError(t, err)
	require.NoError(t, d.PublishMerged(ctx, takeMerged(t, merged, "BTC-USDT", schema.EventTrade, 2)))
	require.NoError(t, d.UnsubscribeMerged(s))
	require.ErrorIs(t, d.UnsubscribeMerged(s), ErrUnknownSubscription)
	<-s.Done()
	require.Equal(t, uint64(1), s.Stats().Discarded)

	gate, entered := make(chan struct{}), make(chan struct{}, 4)
	_, err = d.SubscribeMerged(MergedFilter{}, &MergedOptions{Handler: func(*schema.MergedEvent) {
		entered <- struct{}{}
		<-gate
	}})
	require.NoError(t, err)
	require.NoError(t, d.PublishMerged(ctx, takeMerged(t, merged, "BTC-USDT", schema.EventTrade, 3)))
	require.NoError(t, d.PublishMerged(ctx, takeMerged(t, merged, "BTC-USDT", schema.EventTrade, 4)))
	<-entered
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	var ce *CloseError
	require.ErrorAs(t, d.Close(cctx), &ce)
	require.Equal(t, uint64(1), ce.Discarded)
	require.Equal(t, 1, ce.Running)
	close(gate)
}
