package dispatch

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS30SweepHoldsNoLock: every maxGone Unsubscribes the routes are swept
// of the subscriptions gone (sweepGone), O(routes): measured
// (BenchmarkS30SweepGone) 28–43 ms at 10k routes and 1.2–2.3 s at 100k on
// this loaded machine. It ran under the dispatcher's lock, which
// PublishMerged takes on the publisher's goroutine (and Subscribe, Close,
// a merged subscription's exit): a merged publish waited out the whole
// sweep, the feed stalled. A sweep held in the middle lets a Publish, a
// PublishMerged, a Subscribe and another Unsubscribe all complete.
func TestS30SweepHoldsNoLock(t *testing.T) {
	d, merged := newMergedDispatcher(t)
	p := d.events
	keep, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
	require.NoError(t, err)
	for i := range 4 {
		publish(t, d, p, schema.VenueBinance, "S-"+strconv.Itoa(i), schema.EventBBO, 1)
	}
	in, release := make(chan struct{}), make(chan struct{})
	d.idx.Load().onSweep = func() {
		close(in)
		<-release
	}
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		for range maxGone {
			s, err := d.Subscribe(Filter{}, nil)
			if err == nil {
				err = d.Unsubscribe(s)
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	<-swept // the Unsubscribes return at once: the sweep runs on a goroutine of the dispatcher's
	select {
	case <-in:
	case <-time.After(30 * time.Second):
		t.Fatal("no sweep after maxGone Unsubscribes")
	}
	done := make(chan error, 1)
	go func() {
		ctx := context.Background()
		err := d.PublishMerged(ctx, takeMerged(t, merged, "BTC-USDT", schema.EventBBO, 1))
		if err == nil {
			err = d.Publish(ctx, take(t, p, schema.VenueBinance, "S-1", schema.EventBBO, 2))
		}
		if err == nil {
			var s *Subscription
			if s, err = d.Subscribe(Filter{}, nil); err == nil {
				err = d.Unsubscribe(s)
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		close(release)
		if err := <-done; err != nil {
			t.Log(err)
		}
		t.Fatal("a publish, Subscribe or Unsubscribe waited for a sweep of the routes")
	}
	close(release)
	require.NoError(t, d.Unsubscribe(keep))
	closeDispatcher(t, d)
}
