package session_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// TestAdvEventsDroppedWhileHostSlow: the host's OnState is stuck while
// the order connection is lost and redialled several times, so that the
// client's event queue overflows and drops events. Once the host moves
// on, the session must still subscribe on the connection that is up and
// become ready: a dropped event must not leave it deaf to user data.
func TestAdvEventsDroppedWhileHostSlow(t *testing.T) {
	v := startVenue(t)
	gate := make(chan struct{})
	var blocked atomic.Bool
	client := fastRedial
	client.EventBuffer = 2
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: client, Pools: strictPools(),
		OnState: func(c session.Conn, e wsclient.Event) {
			if c.Role == session.RoleOrders && e.State == schema.ConnConnected && blocked.CompareAndSwap(false, true) {
				<-gate
			}
		}})
	var once sync.Once
	release := func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release) // runs before Close: Close waits for OnState
	waitConnected(t, s)
	for range 4 {
		id := s.Stats().Orders.Client.ConnID
		require.GreaterOrEqual(t, v.CloseAPI(), 1)
		require.Eventually(t, func() bool {
			n := s.Stats().Orders.Client.ConnID
			return n != 0 && n != id
		}, generous, pollEvery)
	}
	require.Positive(t, s.Stats().Orders.Client.EventsDropped, "the queue overflowed")
	release()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, s.WaitConnected(ctx))
	mustPlace(t, s, "after-drops")
}
