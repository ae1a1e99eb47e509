package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS31SweepOffThePublishPath: every maxGone Unsubscribes the routes are
// swept of the subscriptions gone, O(routes) — seconds at 165k routes. It
// ran on the Unsubscribe's goroutine, and the host's OnCriticalOverflow
// (which the docs suggest unsubscribes a stuck subscriber) runs inside
// Publish, on the socket reader's goroutine: the one Unsubscribe in 64 that
// came due stalled the feed for every subscriber for the whole sweep. The
// sweep, held in the middle here, now runs on a goroutine of the
// dispatcher's: Publish returns, the other subscribers get the event, and
// Close waits for the sweep (goleak: nothing left running).
func TestS31SweepOffThePublishPath(t *testing.T) {
	p := newEventPool(16)
	var d *Dispatcher
	d = New(p, &Options{OnCriticalOverflow: func(s *Subscription, _ Stats) {
		require.NoError(t, d.Unsubscribe(s))
	}})
	for range maxGone - 1 { // the maxGone-th Unsubscribe is the one OnCriticalOverflow makes
		s, err := d.Subscribe(Filter{}, nil)
		require.NoError(t, err)
		require.NoError(t, d.Unsubscribe(s))
	}
	stuck := newGatedRecorder()
	_, err := d.Subscribe(Filter{}, &SubscribeOptions{CriticalBound: 1, Handler: stuck.handle})
	require.NoError(t, err)
	later := &recorder{}
	_, err = d.Subscribe(Filter{}, &SubscribeOptions{Handler: later.handle})
	require.NoError(t, err)
	in, release := make(chan struct{}), make(chan struct{})
	d.idx.Load().onSweep = func() {
		close(in)
		<-release
	}
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 1)
	stuck.waitEntered(t)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 2) // queued: the lane at its bound
	published := make(chan error, 1)
	go func() { // over the bound: OnCriticalOverflow unsubscribes, the sweep is due
		published <- d.Publish(context.Background(), take(t, p, bin, "BTC-USDT", schema.EventExecReport, 3))
	}()
	<-in
	select {
	case err := <-published:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		close(release)
		t.Log(<-published)
		t.Fatal("Publish waited for the sweep of the routes an Unsubscribe in OnCriticalOverflow began")
	}
	eventually(t, func() bool { return len(later.got()) == 3 }, "the other subscriber got every event")
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		closed <- d.Close(ctx)
	}()
	close(release)
	close(stuck.gate)
	require.NoError(t, <-closed)
	select {
	case <-d.sweeping():
	default:
		t.Fatal("Close returned with a sweep of the routes running")
	}
}
