package dispatch

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// TestS30HandlerPanicsOnEveryLane: a handler that panics on every event of
// each lane — critical (an execution report, a whole-venue gap marker),
// ordered (a trade, a venue's gap marker about a book), coalescing (a best
// bid/offer) and merged (a window). Each event reaches OnPanic once (no
// redelivery, none lost), is counted in Stats.Panics, and the subscription
// beside it gets every one; every pooled original is back in its pool.
func TestS30HandlerPanicsOnEveryLane(t *testing.T) {
	gapOf := func(typ schema.EventType) func(ev *schema.CanonicalEvent) {
		return func(ev *schema.CanonicalEvent) {
			ev.Type, ev.UseControl().Kind, ev.UseControl().GapType, ev.UseControl().GapCount = schema.EventGap, schema.ControlGap, typ, 1
			ev.Book.Depth = 50
		}
	}
	for _, tc := range []struct {
		name string
		set  func(ev *schema.CanonicalEvent)
	}{
		{"exec report", func(ev *schema.CanonicalEvent) { ev.Type = schema.EventExecReport }},
		{"venue gap marker", gapOf(schema.EventUnknown)},
		{"trade", func(ev *schema.CanonicalEvent) { ev.Type = schema.EventTrade }},
		{"book gap marker", gapOf(schema.EventBookUpdate)},
		{"best bid/offer", func(ev *schema.CanonicalEvent) {
			ev.Type = schema.EventBBO
			ev.Symbol += string(rune('A' + ev.SeqProvider))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newEventPool(4)
			d := New(p, nil)
			var mu sync.Mutex
			var failed []uint64
			panicky, err := d.Subscribe(Filter{}, &SubscribeOptions{
				Handler: func(*schema.CanonicalEvent) { panic("strategy bug") },
				OnPanic: func(ev *schema.CanonicalEvent, v any) {
					mu.Lock()
					failed = append(failed, ev.SeqProvider)
					mu.Unlock()
				},
			})
			require.NoError(t, err)
			beside := &recorder{}
			_, err = d.Subscribe(Filter{}, &SubscribeOptions{Handler: beside.handle})
			require.NoError(t, err)
			const n = 16
			for i := uint64(1); i <= n; i++ {
				ev := take(t, p, bin, "BTC-USDT", schema.EventUnknown, i)
				tc.set(ev)
				require.NoError(t, d.Publish(context.Background(), ev))
			}
			require.Zero(t, p.Stats().InUse)
			eventually(t, func() bool { return len(beside.got()) == n && panicky.Idle() }, "every event delivered")
			closeDispatcher(t, d)
			mu.Lock()
			defer mu.Unlock()
			want := make([]uint64, n)
			for i := range want {
				want[i] = uint64(i + 1)
			}
			require.Equal(t, want, failed, "each event to OnPanic once, in order")
			require.Equal(t, uint64(n), panicky.Stats().Panics)
		})
	}
	t.Run("merged window", func(t *testing.T) {
		merged := pool.New("merged", 4, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
		d := New(newEventPool(4), &Options{Merged: merged})
		ms, err := d.SubscribeMerged(MergedFilter{}, &MergedOptions{Handler: func(*schema.MergedEvent) { panic("strategy bug") }})
		require.NoError(t, err)
		got := make(chan uint64, 64)
		_, err = d.SubscribeMerged(MergedFilter{}, &MergedOptions{Handler: func(m *schema.MergedEvent) { got <- m.MergeID }})
		require.NoError(t, err)
		const n = 16
		for i := uint64(1); i <= n; i++ {
			require.NoError(t, d.PublishMerged(context.Background(), takeMerged(t, merged, "BTC-USDT", schema.EventTrade, i)))
		}
		for i := uint64(1); i <= n; i++ {
			require.Equal(t, i, <-got)
		}
		require.Zero(t, merged.Stats().InUse)
		closeDispatcher(t, d)
		require.Equal(t, uint64(n), ms.Stats().Panics)
	})
}

// TestS30OrderedLaneWithVenueMarkers: one stream's trades and the venue's
// own gap markers about it (published in line, GapSource venue), to a
// subscriber that stalls at random so that its ordered lane drops the
// oldest. Whatever it drops: the trades it gets rise, every trade skipped
// is announced by a marker delivered after the last trade it got and
// before the next, some of the venue's markers arrive (merged into the
// subscriber's own marker when the lane is full: a marker's count is then
// the sum: the markers' counts add up to the drops here and the venue's
// losses), and the stream's last trade arrives.
func TestS30OrderedLaneWithVenueMarkers(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 30))
		p := newEventPool(8)
		d := New(p, nil)
		gate := make(chan struct{}, 1<<12)
		type got struct {
			seq    uint64 // a trade's
			marker bool
			count  uint64
			venue  bool // a marker from the venue (merged or not)
		}
		var log []got
		s, err := d.Subscribe(Filter{Symbols: []string{"BTC-USDT"}}, &SubscribeOptions{OrderedBound: 4, Handler: func(ev *schema.CanonicalEvent) {
			<-gate
			g := got{seq: ev.SeqProvider}
			if ev.Type == schema.EventGap {
				g = got{marker: true, count: ev.Control.GapCount, venue: ev.Control.GapSource == schema.GapVenue}
			}
			log = append(log, g)
		}})
		require.NoError(t, err)
		var trade, venueMarkers, venueLost uint64
		for range 400 {
			if rng.IntN(3) == 0 {
				for range rng.IntN(6) {
					gate <- struct{}{}
				}
			}
			ev := take(t, p, bin, "BTC-USDT", schema.EventTrade, 0)
			if rng.IntN(10) == 0 {
				ev.Type, ev.UseControl().Kind, ev.UseControl().GapType = schema.EventGap, schema.ControlGap, schema.EventTrade
				ev.UseControl().GapSource, ev.UseControl().GapCount = schema.GapVenue, 1+uint64(rng.IntN(3))
				venueMarkers++
				venueLost += ev.Control.GapCount
			} else {
				trade++
				ev.SeqProvider = trade
			}
			require.NoError(t, d.Publish(context.Background(), ev))
		}
		for range 1 << 11 {
			gate <- struct{}{}
		}
		eventually(t, func() bool { return s.Idle() }, "drained")
		closeDispatcher(t, d)
		var last, announced, trades, counted uint64
		var venueSeen uint64
		for i, g := range log {
			if g.marker {
				announced += g.count
				counted += g.count
				if g.venue {
					venueSeen++
				}
				continue
			}
			require.Greater(t, g.seq, last, "seed %d #%d: trades out of order", seed, i)
			if skipped := g.seq - last - 1; skipped > 0 {
				require.NotZero(t, announced, "seed %d #%d: trades %d..%d skipped with no marker", seed, i, last+1, g.seq-1)
			}
			last, announced = g.seq, 0
			trades++
		}
		require.Equal(t, trade, last, "seed %d: the stream's last trade not delivered: %+v", seed, log[max(0, len(log)-12):])
		require.LessOrEqual(t, venueSeen, venueMarkers)
		require.Positive(t, venueSeen, "seed %d: every venue marker dropped", seed)
		st := s.Stats()
		require.Equal(t, trade-trades, st.Dropped, "seed %d: trades neither delivered nor counted dropped (venue markers are never dropped)", seed)
		require.Equal(t, st.Dropped+venueLost, counted, "seed %d: the markers' counts are the trades dropped here and those the venue lost", seed)
		require.Zero(t, p.Stats().InUse)
		t.Logf("seed %d: dropped %d, gaps %d, venue markers %d of %d", seed, st.Dropped, st.Gaps, venueSeen, venueMarkers)
	}
}
