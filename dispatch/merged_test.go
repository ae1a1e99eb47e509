package dispatch

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
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
	// Counted once the send has returned, after the reader has the event.
	eventually(t, func() bool { return ch.Stats().Delivered == 1 }, "delivered counted")
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
// in place, never dropped) and loses the oldest windows past its bound,
// counted.
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
	require.Equal(t, uint64(1), st.Dropped, "window 7 only: the view does not count against the bound")
	require.Equal(t, 4, st.Depth)
	close(gate)
	var ids []uint64
	for range 4 {
		ids = append(ids, (<-entered).MergeID)
	}
	require.Equal(t, []uint64{6, 8, 9, 10}, ids, "the latest view in its place, then the newest windows")
	closeDispatcher(t, d)
	require.Zero(t, merged.Stats().InUse)
}

// The lane never evicts the latest consolidated view, whatever comes after
// it and however the views and windows of several symbols interleave:
// windows go oldest-first among windows, each (symbol, type) keeps one view,
// the latest, in the place of the first one queued, and the order of the
// rest is kept.
func TestMergedLaneKeepsLatestView(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		bound int
		// publish, in order: "B<sym>" a view, "W" a window (symbol BTC)
		steps []string
		want  []string
		drops uint64
	}{
		{"one view then a dozen windows", 4,
			[]string{"BBTC", "W", "W", "W", "W", "W", "W", "W", "W", "W", "W", "W", "W"},
			[]string{"BBTC#1", "W#10", "W#11", "W#12", "W#13"}, 8},
		{"views of two symbols between windows", 2,
			[]string{"W", "BBTC", "W", "BETH", "W", "BBTC", "W", "BETH", "W"},
			[]string{"BBTC#6", "BETH#8", "W#7", "W#9"}, 3},
		{"bound of one", 1,
			[]string{"BETH", "W", "W", "BETH", "W"},
			[]string{"BETH#4", "W#5"}, 2},
		{"views only", 1,
			[]string{"BBTC", "BETH", "BBTC", "BSOL", "BETH", "BBTC"},
			[]string{"BBTC#6", "BETH#5", "BSOL#4"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, merged := newMergedDispatcher(t)
			s, err := d.SubscribeMerged(MergedFilter{}, &MergedOptions{Bound: tc.bound})
			require.NoError(t, err)
			ctx := context.Background()
			// Nothing reads s.C() yet: one event at most is in the hand of
			// the delivery goroutine, blocked on the channel. Publish a
			// window first and wait until it is taken, so that the queue
			// holds exactly what follows.
			require.NoError(t, d.PublishMerged(ctx, takeMerged(t, merged, "BTC-USDT", schema.EventTrade, 0)))
			require.Eventually(t, func() bool { return s.Stats().Depth == 0 }, patience, time.Millisecond)
			for i, step := range tc.steps {
				id := uint64(i + 1)
				if step == "W" {
					require.NoError(t, d.PublishMerged(ctx, takeMerged(t, merged, "BTC-USDT", schema.EventTrade, id)))
				} else {
					require.NoError(t, d.PublishMerged(ctx, takeMerged(t, merged, step[1:]+"-USDT", schema.EventBBO, id)))
				}
			}
			require.Equal(t, tc.drops, s.Stats().Dropped)
			require.Equal(t, uint64(0), (<-s.C()).MergeID)
			var got []string
			for range tc.want {
				m := <-s.C()
				name := "W"
				if m.Type == schema.EventBBO {
					name = "B" + m.Symbol[:len(m.Symbol)-len("-USDT")]
				}
				got = append(got, name+"#"+strconv.FormatUint(m.MergeID, 10))
			}
			require.Equal(t, tc.want, got)
			require.Zero(t, s.Stats().Depth)
			closeDispatcher(t, d)
			require.Zero(t, merged.Stats().InUse)
		})
	}
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

// The merged lane against a model, over random sequences of views (several
// symbols, two coalescable types), windows and reads, with bounds small
// enough that the ring wraps and grows: every view is latest-wins per
// (symbol, type) in the place of the first one queued and never dropped,
// windows are dropped oldest-first among windows past the bound, the rest
// keep their order.
func TestMergedLaneModel(t *testing.T) {
	t.Parallel()
	type item struct {
		sym string
		typ schema.EventType
		id  uint64
	}
	syms := []string{"BTC-USDT", "ETH-USDT", "SOL-USDT"}
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 3))
		bound := 1 + rng.IntN(6)
		merged := pool.New("merged", 8, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
		d := New(newEventPool(4), &Options{Merged: merged})
		s, err := d.SubscribeMerged(MergedFilter{}, &MergedOptions{Bound: bound})
		require.NoError(t, err)
		ctx := context.Background()
		var hand *item // what the delivery goroutine holds, blocked on C
		var queue []item
		var drops uint64
		settle := func() {
			t.Helper()
			want := len(queue)
			require.Eventually(t, func() bool { return s.Stats().Depth == want }, patience, time.Millisecond, "seed %d", seed)
		}
		id := uint64(0)
		for range 300 {
			switch k := rng.IntN(10); {
			case k < 4: // a view
				id++
				it := item{syms[rng.IntN(len(syms))], []schema.EventType{schema.EventBBO, schema.EventTicker}[rng.IntN(2)], id}
				require.NoError(t, d.PublishMerged(ctx, takeMerged(t, merged, it.sym, it.typ, it.id)))
				i := slices.IndexFunc(queue, func(q item) bool { return q.sym == it.sym && q.typ == it.typ })
				switch {
				case hand == nil:
					hand = &it
				case i >= 0:
					queue[i] = it
				default:
					queue = append(queue, it)
				}
			case k < 8: // a window
				id++
				it := item{syms[rng.IntN(len(syms))], schema.EventTrade, id}
				require.NoError(t, d.PublishMerged(ctx, takeMerged(t, merged, it.sym, it.typ, it.id)))
				if hand == nil {
					hand = &it
					break
				}
				n := 0
				for _, q := range queue {
					if !q.typ.Coalescable() {
						n++
					}
				}
				if n >= bound {
					i := slices.IndexFunc(queue, func(q item) bool { return !q.typ.Coalescable() })
					queue = slices.Delete(queue, i, i+1)
					drops++
				}
				queue = append(queue, it)
			default: // a read
				if hand == nil {
					continue
				}
				m := <-s.C()
				require.Equal(t, *hand, item{m.Symbol, m.Type, m.MergeID}, "seed %d", seed)
				hand = nil
				if len(queue) > 0 {
					hand = &queue[0]
					queue = slices.Clone(queue[1:])
				}
			}
			settle()
		}
		require.Equal(t, drops, s.Stats().Dropped, "seed %d", seed)
		for hand != nil {
			m := <-s.C()
			require.Equal(t, *hand, item{m.Symbol, m.Type, m.MergeID}, "seed %d", seed)
			hand = nil
			if len(queue) > 0 {
				hand = &queue[0]
				queue = queue[1:]
			}
		}
		closeDispatcher(t, d)
		require.Zero(t, merged.Stats().InUse)
	}
}
