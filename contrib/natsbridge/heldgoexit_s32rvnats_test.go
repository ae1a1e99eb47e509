package natsbridge

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS32rvnatsGoexitWhileFlushingHeld: the Consumer's loop delivers the
// critical messages it held for want of an event on its retry timer,
// under its lock taken and released without defer. A runtime.Goexit in
// the host dispatcher's OnCriticalOverflow there ended the loop with the
// lock held: the loop started again and stopped at the next message for
// good (and Close with it). A message published after the Goexit must
// still reach the host.
func TestS32rvnatsGoexitWhileFlushingHeld(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	far := newSmallNode(t)
	var faults atomic.Int64
	far.d = dispatch.New(far.events, &dispatch.Options{OnCriticalOverflow: func(*dispatch.Subscription, dispatch.Stats) {
		faults.Add(1)
		runtime.Goexit()
	}})
	got := make(chan *schema.CanonicalEvent, 1<<10)
	_, err := far.d.Subscribe(dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.events, nil)
	require.NoError(t, err)
	state := func(i int) func(*schema.CanonicalEvent) {
		return func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Type = schema.VenueBinance, schema.EventConnState
			ev.UseControl().Kind, ev.UseControl().State, ev.UseControl().Code = schema.ControlConnState, schema.ConnConnected, int64(i)
		}
	}
	isCritical := func(ev *schema.CanonicalEvent) bool { return ev.Type.Critical() }
	ingest.publish(t, state(0))
	require.Equal(t, int64(0), next(t, got, isCritical).Control.Code)
	// The pool exhausted and the Consumer's reserve spent (it goes back to
	// the pool once delivered, and is taken there): the next ones find no
	// event and are held.
	code := 0
	exhausted := func() bool {
		far.hold(0)
		cons.mu.Lock()
		defer cons.mu.Unlock()
		return cons.reserve == nil && int(far.events.Stats().InUse) == far.events.Capacity()
	}
	for !exhausted() {
		code++
		ingest.publish(t, state(code))
		require.Equal(t, int64(code), next(t, got, isCritical).Control.Code)
		eventually(t, func() bool { return cons.Stats().Delivered == uint64(code+1) }, "not delivered")
	}
	// Blocks in its first event until the end: its critical lane (bound
	// 1) goes over it at the second or third held message, delivered
	// together on the retry timer.
	release := make(chan struct{})
	stuck, err := far.d.Subscribe(dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}}, &dispatch.SubscribeOptions{CriticalBound: 1,
		Handler: func(*schema.CanonicalEvent) { <-release }})
	require.NoError(t, err)
	const n = 3
	for i := 1; i <= n; i++ {
		ingest.publish(t, state(code+i))
	}
	eventually(t, func() bool { return cons.Stats().Received >= uint64(code+n+1) && cons.holding.Load() }, "nothing held")
	require.Zero(t, faults.Load(), "OnCriticalOverflow ran before the events were free")
	far.release()
	for i := 1; i <= n; i++ {
		require.Equal(t, int64(code+i), next(t, got, isCritical).Control.Code)
	}
	eventually(t, func() bool { return faults.Load() >= 1 }, "the host's OnCriticalOverflow ran: %d", faults.Load())
	// After the host's Goexit: market data goes on.
	ingest.publish(t, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventTrade, 1
	})
	require.Equal(t, schema.EventTrade, next(t, got, anyEvent).Type)
	close(release)
	require.NoError(t, far.d.Unsubscribe(stuck))
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	require.NoError(t, far.d.Close(closeCtx(t)))
}
