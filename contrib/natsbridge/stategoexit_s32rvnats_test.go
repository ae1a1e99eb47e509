package natsbridge

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/embedded"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS32rvnatsGoexitWhilePublishingState: the Consumer publishes its
// connection's states into the host's dispatcher under its lock; a
// runtime.Goexit in the dispatcher's OnCriticalOverflow there must not
// leave the lock held: market data after it must still reach the host.
func TestS32rvnatsGoexitWhilePublishingState(t *testing.T) {
	srv := startServer(t)
	ingest := newNode(t)
	far := &node{pools: schema.NewPools(nil)}
	var faults atomic.Int64
	far.d = dispatch.New(far.pools.Events, &dispatch.Options{OnCriticalOverflow: func(*dispatch.Subscription, dispatch.Stats) {
		faults.Add(1)
		runtime.Goexit()
	}})
	release := make(chan struct{})
	stuck, err := far.d.Subscribe(dispatch.Filter{Venues: []schema.Venue{DefaultStateVenue}}, &dispatch.SubscribeOptions{CriticalBound: 1,
		Handler: func(*schema.CanonicalEvent) { <-release }})
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	var dialer embedded.Dialer
	dialer.Follow(srv)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(&dialer)}}), far.d, far.pools.Events, nil)
	require.NoError(t, err)
	srv.Stop()
	srv2, err := srv.Restart()
	require.NoError(t, err)
	t.Cleanup(srv2.Stop)
	dialer.Follow(srv2)
	eventually(t, func() bool { return faults.Load() >= 1 }, "the host's OnCriticalOverflow ran")
	pub2, err := NewPublisher(waitCtx(t), connect(t, srv2.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	eventually(t, func() bool {
		ingest.publish(t, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventTicker
		})
		return len(got) > 0
	}, "nothing delivered after the Goexit")
	close(release)
	require.NoError(t, far.d.Unsubscribe(stuck))
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, pub2.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}
