package dispatch

import (
	"context"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// balance is what a host's accounting of one subscription checks: every
// event the subscription accepted, plus the gap markers the dispatcher
// made for it, is delivered, still queued (the one being handed over
// included), dropped (announced by a marker), replaced by a newer one of
// its stream, or released at Unsubscribe or a Close that gave up.
func balance(accepted uint64, st Stats) (in, out uint64) {
	return accepted + st.Gaps, st.Delivered + uint64(st.Depth) + uint64(st.InHand) + st.Dropped + st.Coalesced + st.Discarded
}

// TestS36AcceptedEventsAddUp: a channel subscriber that never reads kept
// one event in hand — taken off its queue and offered on C — counted
// neither in Stats.Critical nor in Delivered, nor in Depth: a host that
// counted its execution reports not yet handed over saw one fewer than
// it had not got (s35ct's root test: "one may be in hand"), and a
// handler's subscription the same while its handler runs. Stats.InHand
// (and InHandType) now tell, until the event is delivered (received from
// C, or the handler returned) or released.
func TestS36AcceptedEventsAddUp(t *testing.T) {
	t.Parallel()
	t.Run("a reader that never reads holds every report", func(t *testing.T) {
		t.Parallel()
		p := newEventPool(4)
		d := New(p, nil)
		s, err := d.Subscribe(Filter{}, nil)
		require.NoError(t, err)
		for n := uint64(1); n <= 50; n++ {
			publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, n)
		}
		// The goroutine takes the first report off the lane and offers it
		// on C: wait until it has.
		eventually(t, func() bool { return s.Stats().Critical == 49 }, "the first report offered on C")
		st := s.Stats()
		assert.Equal(t, 1, st.InHand, "the report offered on C and not received: %+v", st)
		assert.Equal(t, schema.EventExecReport, st.InHandType, "%+v", st)
		assert.Equal(t, 50, st.Critical+st.InHand, "%+v", st)
		in, out := balance(50, st)
		assert.Equal(t, in, out, "%+v", st)
		for n := uint64(1); n <= 50; n++ {
			require.Equal(t, n, (<-s.C()).SeqProvider)
		}
		eventually(t, func() bool { return s.Idle() }, "idle")
		st = s.Stats()
		st.WorstLag, st.MaxDepth = 0, 0 // MaxDepth: 49 or 50, as the goroutine took the first before the last came or not
		assert.Equal(t, Stats{Delivered: 50}, st)
		require.NoError(t, d.Close(context.Background()))
		for range s.C() {
		}
	})
	t.Run("a handler holding an event", func(t *testing.T) {
		t.Parallel()
		p := newEventPool(4)
		d := New(p, nil)
		r, s := stalled(t, d, p, SubscribeOptions{}, schema.EventExecReport)
		st := s.Stats()
		assert.Equal(t, 1, st.InHand, "the report inside the handler is not delivered yet: %+v", st)
		assert.Equal(t, schema.EventExecReport, st.InHandType, "%+v", st)
		r.open()
		closeDispatcher(t, d)
		st = s.Stats()
		st.WorstLag = 0
		assert.Equal(t, Stats{Delivered: 1, MaxDepth: 1}, st)
	})
	t.Run("merged", func(t *testing.T) {
		t.Parallel()
		mp := pool.New("merged", 4, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
		d := New(newEventPool(1), &Options{Merged: mp})
		s, err := d.SubscribeMerged(MergedFilter{}, nil)
		require.NoError(t, err)
		for n := range 5 {
			require.NoError(t, d.PublishMerged(context.Background(), takeMerged(t, mp, "BTC-USDT", schema.EventTrade, uint64(n+1))))
		}
		eventually(t, func() bool { return s.Stats().Depth == 4 }, "the first merged event offered on C")
		assert.Equal(t, 1, s.Stats().InHand, "%+v", s.Stats())
		for range 5 {
			<-s.C()
		}
		eventually(t, func() bool { return s.Stats().Delivered == 5 }, "delivered")
		assert.Equal(t, MergedStats{Delivered: 5}, s.Stats())
		require.NoError(t, d.Close(context.Background()))
		for range s.C() {
		}
	})
}

// TestS36AccountingHoldsAtEverySnapshot publishes a random mix — trades,
// quotes, execution reports, gap markers about an ordered stream (in line)
// and about a quote stream (critical, dropping the queued quote) — to a
// subscriber that never reads, one whose handler lets events through a
// few at a time, and one that unsubscribes half-way, with lanes small
// enough that every way out is taken: dropped trades, replaced and
// evicted quotes, published markers merged into a waiting one. After
// every publish each subscription's Stats add up (balance).
func TestS36AccountingHoldsAtEverySnapshot(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	opts := SubscribeOptions{OrderedBound: 3, CriticalBound: 4}
	idle, err := d.Subscribe(Filter{}, &opts)
	require.NoError(t, err)
	gate := make(chan struct{}, 64)
	handlerOpts := opts
	handlerOpts.Handler = func(*schema.CanonicalEvent) { <-gate }
	slow, err := d.Subscribe(Filter{}, &handlerOpts)
	require.NoError(t, err)
	gone, err := d.Subscribe(Filter{}, &opts)
	require.NoError(t, err)
	subs := []*Subscription{idle, slow, gone}
	for _, s := range subs {
		s.mu.Lock()
		s.quoteBound, s.staleBound = 3, 1 // quotes evicted, and markers of every symbol
		s.mu.Unlock()
	}
	accepted := make([]uint64, len(subs))
	rng := rand.New(rand.NewPCG(36, 1))
	syms := []string{"A", "B", "C", "D", "E"}
	steps := 3000
	if raceEnabled {
		steps = 1000
	}
	for i := range steps {
		ev, err := p.TryGet()
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.SeqProvider = bin, syms[rng.IntN(len(syms))], uint64(i+1)
		switch rng.IntN(10) {
		case 0, 1, 2:
			ev.Type = schema.EventTrade
		case 3, 4, 5:
			ev.Type = schema.EventBBO
		case 6:
			ev.Type = schema.EventExecReport
		case 7:
			ev.Type, ev.Control = schema.EventGap, &schema.Control{Kind: schema.ControlGap, GapType: schema.EventTrade, GapCount: 2, GapSource: schema.GapVenue}
		case 8:
			ev.Type, ev.Control = schema.EventGap, &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBBO, GapCount: 1, GapSource: schema.GapVenue}
		default:
			ev.Type = schema.EventTicker
		}
		require.NoError(t, d.Publish(context.Background(), ev))
		for j, s := range subs {
			if s != gone || i < steps/2 {
				accepted[j]++
			}
		}
		if i == steps/2-1 {
			require.NoError(t, d.Unsubscribe(gone))
		}
		if rng.IntN(4) == 0 {
			select {
			case gate <- struct{}{}:
			default:
			}
		}
		for j, s := range subs {
			st := s.Stats()
			in, out := balance(accepted[j], st)
			require.Equal(t, in, out, "subscription %d after publish %d: %+v", j, i+1, st)
		}
		if i%64 == 0 {
			runtime.Gosched()
		}
	}
	st := slow.Stats()
	require.NotZero(t, st.Dropped, "%+v", st)
	require.NotZero(t, st.Coalesced, "%+v", st)
	eventually(t, func() bool { return slow.Stats().Delivered > 0 }, "the slow handler let some through")
	waitDone(t, gone)
	st = gone.Stats()
	in, out := balance(accepted[2], st)
	require.Equal(t, in, out, "unsubscribed: %+v", st)
	require.NotZero(t, st.Discarded)
	require.Zero(t, st.Depth)

	close(gate)
	require.NoError(t, d.Unsubscribe(idle))
	waitDone(t, idle)
	closeDispatcher(t, d)
	for j, s := range []*Subscription{idle, slow} {
		st := s.Stats()
		in, out := balance(accepted[j], st)
		require.Equal(t, in, out, "ended, subscription %d: %+v", j, st)
		require.Zero(t, st.Depth, "%+v", st)
	}
}

// TestS36GoexitInHandlerCountsItsEvent: a handler that ends its goroutine
// with runtime.Goexit (t.FailNow in a test's handler) ends its
// subscription; the event it was handed counts as delivered (as one it
// panicked on), what was queued as discarded, and nothing stays in hand.
func TestS36GoexitInHandlerCountsItsEvent(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	entered, exit := make(chan struct{}), make(chan struct{})
	s, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {
		close(entered)
		<-exit
		runtime.Goexit()
	}})
	require.NoError(t, err)
	merged := pool.New("merged", 4, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	for n := uint64(1); n <= 3; n++ {
		publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, n)
		if n == 1 {
			<-entered
		}
	}
	close(exit)
	waitDone(t, s)
	st := s.Stats()
	st.WorstLag = 0
	assert.Equal(t, Stats{Delivered: 1, Discarded: 2, MaxDepth: 2}, st)
	in, out := balance(3, st)
	assert.Equal(t, in, out, "%+v", st)

	d2 := New(newEventPool(1), &Options{Merged: merged})
	mentered, mexit := make(chan struct{}), make(chan struct{})
	ms, err := d2.SubscribeMerged(MergedFilter{}, &MergedOptions{Handler: func(*schema.MergedEvent) {
		close(mentered)
		<-mexit
		runtime.Goexit()
	}})
	require.NoError(t, err)
	require.NoError(t, d2.PublishMerged(context.Background(), takeMerged(t, merged, "BTC-USDT", schema.EventTrade, 1)))
	<-mentered
	require.NoError(t, d2.PublishMerged(context.Background(), takeMerged(t, merged, "BTC-USDT", schema.EventTrade, 2)))
	close(mexit)
	<-ms.Done()
	assert.Equal(t, MergedStats{Delivered: 1, Discarded: 1}, ms.Stats())
	closeDispatcher(t, d)
	closeDispatcher(t, d2)
}
