package natsbridge

import (
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
	r := newGoexitRig(t, dispatch.Filter{Venues: []schema.Venue{DefaultStateVenue}}, binanceOnly)
	var dialer embedded.Dialer
	dialer.Follow(r.srv)
	cons, err := NewConsumer(waitCtx(t), connect(t, r.srv.ClientURL(), &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(&dialer)}}), r.far.d, r.far.pools.Events, nil)
	require.NoError(t, err)
	r.srv.Stop()
	srv2, err := r.srv.Restart()
	require.NoError(t, err)
	t.Cleanup(srv2.Stop)
	dialer.Follow(srv2)
	r.goexited(t)
	pub2, err := NewPublisher(waitCtx(t), connect(t, srv2.ClientURL(), nil), r.ingest.d, nil)
	require.NoError(t, err)
	eventually(t, func() bool {
		r.ingest.publish(t, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventTicker
		})
		return len(r.got) > 0
	}, "nothing delivered after the Goexit")
	require.NoError(t, pub2.Close(closeCtx(t)))
	r.close(t, cons)
}
