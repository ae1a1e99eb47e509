package session_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestAdvNoOrderBeforeUserData: the order connection is lost and
// redialled while the session has not yet heard of it (its connection
// events wait behind a slow OnState). An order placed then must not go out
// on the new connection before that connection's user-data subscription
// is accepted: the venue would accept it and send its execution reports to
// no one (Binance's WS-API delivers user data only to a connection
// subscribed to it). The order waits, goes out once the new connection is
// subscribed, and every one of its execution reports arrives.
func TestAdvNoOrderBeforeUserData(t *testing.T) {
	v := startVenue(t)
	host := newSlowHost()
	var mu sync.Mutex
	reports := map[string]int{}
	var s *session.Session
	s = start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, Pools: strictPools(),
		OnState: host.onState,
		OnExecReport: func(r *schema.ExecReport) {
			mu.Lock()
			reports[r.ClientOrderID.String()]++
			mu.Unlock()
			s.Pools().Execs.Put(r)
		}})
	t.Cleanup(host.release) // before Close, which waits for OnState
	waitConnected(t, s)
	require.Eventually(t, host.blocked.Load, generous, pollEvery, "the host is stuck")
	first := s.Stats().Orders.Client.ConnID
	require.NotZero(t, first)

	require.Equal(t, 1, v.CloseAPI())
	nextConn(t, s, first)
	require.Len(t, v.UserDataSubscriptions(), 1, "which the session has not subscribed yet")

	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req, err := s.Pools().Orders.Get(ctx)
	require.NoError(t, err)
	req.Symbol, req.Side, req.Type, req.Qty = "BTC-USDT", schema.SideBuy, schema.OrderTypeMarket, schema.MustParseDecimal("0.01")
	req.ClientOrderID = schema.MustID("in-the-gap")
	placed := make(chan error, 1)
	go func() {
		_, err := s.Place(ctx, req)
		s.Pools().Orders.Put(req)
		placed <- err
	}()
	// The call has tried its connection once the venue has the order (it
	// went out on the unsubscribed connection), or once the session no
	// longer says it is ready (it saw the connection change and held the
	// order back).
	require.Eventually(t, func() bool { return v.Stats().Orders > 0 || !readyNow(s) }, generous, pollEvery)
	assert.Zero(t, v.Stats().Orders, "no order reached the venue on a connection without user data")
	host.release()
	require.NoError(t, <-placed)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return reports["in-the-gap"] == 3
	}, generous, pollEvery, "NEW and two fills")
	subs := v.UserDataSubscriptions()
	assert.True(t, subs[len(subs)-1].Accepted)
}
