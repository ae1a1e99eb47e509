package dispatch

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// TestS36rvAccountingWhileDelivering: the rule on Stats (accepted + Gaps
// = Delivered + Depth + InHand + Dropped + Coalesced + Discarded) and on
// MergedStats holds in every snapshot while the subscriptions' goroutines
// deliver at the same time: a channel reader reading at its own pace, a
// handler that panics on some events, a handler stuck until Close gives
// up on it, and the same three kinds on the merged lane; then at the end,
// after a Close that gave up (what was queued discarded, the event in
// hand delivered or discarded).
func TestS36rvAccountingWhileDelivering(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	mp := pool.New("merged", 4, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	d := New(p, &Options{Merged: mp, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	opts := SubscribeOptions{OrderedBound: 4, CriticalBound: 8}
	reader, err := d.Subscribe(Filter{}, &opts)
	require.NoError(t, err)
	panicking := opts
	var n int
	panicking.Handler = func(ev *schema.CanonicalEvent) {
		if n++; n%3 == 0 {
			panic("s36rv")
		}
	}
	panics, err := d.Subscribe(Filter{}, &panicking)
	require.NoError(t, err)
	stuck := make(chan struct{})
	held := opts
	held.Handler = func(*schema.CanonicalEvent) { <-stuck }
	holder, err := d.Subscribe(Filter{}, &held)
	require.NoError(t, err)
	subs := []*Subscription{reader, panics, holder}
	for _, s := range subs {
		s.mu.Lock()
		s.quoteBound, s.staleBound, s.gapBound = 3, 1, 2
		s.mu.Unlock()
	}
	mopts := MergedOptions{Bound: 3}
	mreader, err := d.SubscribeMerged(MergedFilter{}, &mopts)
	require.NoError(t, err)
	var mn int
	mopts.Handler = func(*schema.MergedEvent) {
		if mn++; mn%3 == 0 {
			panic("s36rv merged")
		}
	}
	mpanics, err := d.SubscribeMerged(MergedFilter{}, &mopts)
	require.NoError(t, err)
	mopts.Handler = func(*schema.MergedEvent) { <-stuck }
	mholder, err := d.SubscribeMerged(MergedFilter{}, &mopts)
	require.NoError(t, err)
	msubs := []*MergedSubscription{mreader, mpanics, mholder}

	var wg sync.WaitGroup
	stopReading := make(chan struct{})
	wg.Add(2)
	go func() { // reads at its own pace until told to stop
		defer wg.Done()
		for {
			select {
			case <-stopReading:
				return
			case <-reader.C():
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stopReading:
				return
			case <-mreader.C():
			}
		}
	}()

	rng := rand.New(rand.NewPCG(36, 2))
	syms := []string{"A", "B", "C", "D", "E", "F"}
	steps := 4000
	if raceEnabled {
		steps = 1500
	}
	var accepted, maccepted uint64
	check := func(when string) {
		t.Helper()
		for j, s := range subs {
			st := s.Stats()
			in, out := balance(accepted, st)
			require.Equal(t, in, out, "subscription %d %s: %+v", j, when, st)
		}
		for j, s := range msubs {
			st := s.Stats()
			require.Equal(t, maccepted, st.Delivered+uint64(st.Depth)+uint64(st.InHand)+st.Coalesced+st.Dropped+st.Discarded,
				"merged subscription %d %s: %+v", j, when, st)
		}
	}
	for i := range steps {
		if rng.IntN(3) == 0 {
			typ := schema.EventTrade
			if rng.IntN(2) == 0 {
				typ = schema.EventBBO
			}
			require.NoError(t, d.PublishMerged(context.Background(), takeMerged(t, mp, syms[rng.IntN(len(syms))], typ, uint64(i+1))))
			maccepted++
			check("after a merged publish")
			continue
		}
		ev, err := p.TryGet()
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.SeqProvider = bin, syms[rng.IntN(len(syms))], uint64(i+1)
		if rng.IntN(2) == 0 {
			ev.Venue = okx
		}
		switch rng.IntN(10) {
		case 0, 1, 2, 3:
			ev.Type = schema.EventTrade
		case 4, 5:
			ev.Type = schema.EventBBO
		case 6:
			ev.Type = schema.EventExecReport
		case 7:
			ev.Type, ev.Control = schema.EventGap, &schema.Control{Kind: schema.ControlGap, GapType: schema.EventTrade, GapCount: 2, GapSource: schema.GapVenue}
		case 8:
			ev.Type, ev.Control = schema.EventGap, &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBBO, GapCount: 1, GapSource: schema.GapVenue}
		default:
			ev.Type = schema.EventBookUpdate
		}
		require.NoError(t, d.Publish(context.Background(), ev))
		accepted++
		check("after a publish")
	}
	close(stopReading)
	wg.Wait() // both readers stop reading: each goroutine may offer one event on C for good
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ce *CloseError
	require.ErrorAs(t, d.Close(ctx), &ce) // gives up at once: what is queued is discarded
	check("after Close gave up")
	// The channel subscriptions are handed off (Close does not wait for
	// them): ended here, the event offered on C is discarded — unless
	// the reader had read all and the drain ended it already.
	if err := d.Unsubscribe(reader); err != nil {
		require.ErrorIs(t, err, ErrUnknownSubscription)
	}
	if err := d.UnsubscribeMerged(mreader); err != nil {
		require.ErrorIs(t, err, ErrUnknownSubscription)
	}
	close(stuck)
	for _, s := range subs {
		waitDone(t, s)
	}
	for _, s := range msubs {
		<-s.Done()
	}
	check("ended")
	for j, s := range subs {
		st := s.Stats()
		require.Zero(t, st.Depth+st.InHand, "subscription %d: %+v", j, st)
		require.NotZero(t, st.Delivered, "subscription %d: %+v", j, st)
	}
	require.NotZero(t, panics.Stats().Panics)
	for j, s := range msubs {
		st := s.Stats()
		require.Zero(t, st.Depth+st.InHand, "merged subscription %d: %+v", j, st)
	}
}
