package session_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
)

// TestS30WSAPIUserDataSubscribedBeforeSwitch: Binance announces the
// WS-API server's shutdown; the replacement connection's user data is
// subscribed before the switch (wsclient Options.Prepare), while the old
// connection still delivers: the user-data stream is never down. Before
// s30sess the switch came half a second after the new connection's
// first message and the subscription after it: the reports of that
// window reached the host only through a reconciliation pass (REST).
// The order in flight at the notice is answered on the old connection
// after the new one's subscription (the venue still serves it): the
// switch waits for that answer (s30rvsess: before, the switch closed the
// old connection at once, and the Place got ErrDisconnected for an order
// the venue answered). The order made after the notice goes on the new
// connection.
func TestS30WSAPIUserDataSubscribedBeforeSwitch(t *testing.T) {
	v := startVenue(t)
	var sp atomic.Pointer[session.Session]
	var rotationsAtSub atomic.Int64
	rotationsAtSub.Store(-1)
	var orderConn atomic.Int32
	held := make(chan heldOrder, 1)
	subscribed2 := make(chan struct{})
	url, push := wsAPIPush(t, func(conn int, id uint64, msg []byte) string {
		switch m := string(msg); {
		case strings.Contains(m, "userDataStream.subscribe"):
			if s := sp.Load(); conn == 2 && s != nil {
				rotationsAtSub.Store(int64(s.Stats().Orders.Client.Rotations))
				defer close(subscribed2)
			}
			return fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, id)
		case conn == 1: // the order: the venue announces the shutdown, and answers later
			held <- heldOrder{id: id, conn: conn}
			return binanceServerShutdown
		default:
			orderConn.Store(int32(conn))
			return ackBody(id, "s30-2", 2)
		}
	})
	ep := endpoints(v)
	ep.API = url
	cfg := session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true}
	s := start(t, cfg)
	sp.Store(s)
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()

	req1 := limitOrder(s, t, "s30-1", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req1)
	done := placeAsync(ctx, s, req1)
	h := requireHeld(t, held)
	select {
	case <-subscribed2:
	case <-ctx.Done():
		t.Fatal("no user-data subscription on the new connection")
	}
	require.Never(t, func() bool { return s.Stats().Orders.Client.Rotations > 0 }, drainNever, pollEvery,
		"no switch while the old connection owes an answer")
	require.NoError(t, push(h.conn, ackBody(h.id, "s30-1", 1)))
	require.NoError(t, <-done, "answered on the old connection, after the new one's subscription")
	require.Eventually(t, func() bool { return s.Stats().Orders.Client.Rotations == 1 }, generous, pollEvery, "replaced ahead of the shutdown")
	assert.Equal(t, int64(0), rotationsAtSub.Load(), "the new connection's user data subscribed before the switch")

	req2 := limitOrder(s, t, "s30-2", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req2)
	_, err := s.Place(ctx, req2)
	require.NoError(t, err)
	assert.Equal(t, int32(2), orderConn.Load(), "the order after the notice goes on the new connection")
}
