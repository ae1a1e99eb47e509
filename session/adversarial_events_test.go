package session_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
)

// TestAdvEventsDroppedWhileHostSlow: the host's OnState is stuck while
// the order connection is lost and redialled several times, so that the
// client's event queue overflows and drops events. Once the host moves
// on, the session must still subscribe on the connection that is up and
// become ready: a dropped event must not leave it deaf to user data.
func TestAdvEventsDroppedWhileHostSlow(t *testing.T) {
	v := startVenue(t)
	host := newSlowHost()
	client := fastRedial
	client.EventBuffer = 2
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: client, Pools: strictPools(),
		OnState: host.onState})
	t.Cleanup(host.release) // runs before Close: Close waits for OnState
	waitConnected(t, s)
	for range 4 {
		id := s.Stats().Orders.Client.ConnID
		// The venue registers a connection a moment after the client
		// has it: close it once it has.
		require.Eventually(t, func() bool { return v.CloseAPI() >= 1 }, generous, pollEvery)
		nextConn(t, s, id)
	}
	require.Positive(t, s.Stats().Orders.Client.EventsDropped, "the queue overflowed")
	host.release()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, s.WaitConnected(ctx))
	mustPlace(t, s, "after-drops")
}
