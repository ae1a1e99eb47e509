package dispatch

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS25rvReplacedStreamKeepsSlot: a stream whose quote stays queued
// while it keeps quoting (a slow subscriber: each quote replaces the one
// queued) quoted all along, and keeps its slot once the subscriber has
// caught up, as a stream that quotes again before W new streams have come
// does (sweepSlotsLocked). Its age counted from the quote that queued the
// slot, not from its last one, so the sweep forgot it at its next visit,
// for a stream quoting all the time.
func TestS25rvReplacedStreamKeepsSlot(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	var handled atomic.Uint64
	s, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-gate
		handled.Add(1)
	}})
	require.NoError(t, err)
	pub := func(sym string) {
		ev, err := p.TryGet()
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type = bin, sym, schema.EventBBO
		require.NoError(t, d.Publish(context.Background(), ev))
	}
	slotOf := func(sym string) *slot {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.slotOf(routeKey{venue: bin, symbol: sym, typ: schema.EventBBO})
	}
	pub("FIRST")
	<-entered // the subscriber is stalled in its handler: what follows stays queued
	pub("A")
	for i := range minSlots {
		pub("P-" + strconv.Itoa(i))
	}
	for i := range minSlots + 2 { // new streams come; A quotes all along, replaced in its slot
		pub("N-" + strconv.Itoa(i))
		pub("A")
	}
	kept := slotOf("A")
	require.NotNil(t, kept)
	close(gate)
	eventually(t, func() bool { return s.Stats().Coalescing == 0 }, "the subscriber caught up")
	for i := range 3000 { // the sweep goes a whole turn round the slots
		pub("M-" + strconv.Itoa(i))
	}
	require.Nil(t, slotOf("P-0"), "nothing was swept: the test tests nothing")
	require.Same(t, kept, slotOf("A"), "a stream that quoted all along lost its slot")
	closeDispatcher(t, d)
}
