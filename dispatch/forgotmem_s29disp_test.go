package dispatch

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS29ForgottenSlotsMemoryPerSubscribe: the sweep remembers the streams
// whose slots it forgot (so that their return does not age the others:
// TestS28ManyFirstQuotesAtOnceKeepSlots), in a sketch per subscription.
// Sized for 2^18 streams whatever the subscription follows, it cost about
// 512 KiB per subscription that forgot a few thousand slots: 512 MB for a
// host of 1,000 such subscriptions. Sized to the streams the subscription
// holds, it costs a few bytes per slot held: the memory a Subscribe costs
// grows with its streams, not by a fixed half megabyte.
func TestS29ForgottenSlotsMemoryPerSubscribe(t *testing.T) {
	subs := 16
	if raceEnabled {
		// The bound is per slot held, whatever the subscriptions: a
		// 2^18-stream sketch (~512 KiB) per subscription is still ~100 B
		// per slot held against 24.
		subs = 8
	}
	p := newEventPool(64)
	d := New(p, nil)
	var delivered atomic.Uint64
	var ss []*Subscription
	for range subs {
		s, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) { delivered.Add(1) }})
		require.NoError(t, err)
		ss = append(ss, s)
	}
	var published uint64
	pub := func(from, to int) {
		for i := from; i < to; i++ {
			ev, err := p.TryGet()
			require.NoError(t, err)
			ev.Venue, ev.Symbol, ev.Type = bin, "OPT-"+strconv.Itoa(i), schema.EventBBO
			require.NoError(t, d.Publish(context.Background(), ev))
			published += uint64(subs)
			if i%512 == 0 {
				eventually(t, func() bool { return delivered.Load() == published }, "delivery")
			}
		}
		eventually(t, func() bool { return delivered.Load() == published }, "delivery")
	}
	held := func() (n int) {
		for _, s := range ss {
			s.mu.Lock()
			n += len(s.slots)
			s.mu.Unlock()
		}
		return n
	}
	m0 := liveHeap()
	pub(0, minSlots) // no slot forgotten yet
	mA, hA := liveHeap(), held()
	pub(minSlots, 3*minSlots) // the sweep forgets thousands of slots per subscription
	mB, hB := liveHeap(), held()
	_ = mA
	// What the sketches hold: the heap they keep alive, measured by
	// dropping them.
	for _, s := range ss {
		s.mu.Lock()
		require.NotNil(t, s.forgot, "the sweep forgot no slot: the test tests nothing")
		s.mu.Unlock()
	}
	withSketches := liveHeap()
	for _, s := range ss {
		s.mu.Lock()
		s.forgot, s.forgotPrev = nil, nil
		s.mu.Unlock()
	}
	sketches := float64(withSketches) - float64(liveHeap())
	perSub := sketches / float64(subs)
	t.Logf("slots held per subscription %d then %d; heap %.0f KiB per subscription, of which the forgotten-slots sketch %.0f KiB (%.1f B per slot held)",
		hA/subs, hB/subs, float64(mB-m0)/float64(subs)/1024, perSub/1024, sketches/float64(hB))
	require.LessOrEqual(t, sketches/float64(hB), float64(3*forgotSlots*2),
		"the forgotten-slots sketch costs more than 3 x %d fingerprints of 2 bytes per slot held", forgotSlots)
	closeDispatcher(t, d)
}
