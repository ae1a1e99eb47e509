package session

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// The order connection's age-out (orders.ageOut, at Client.MaxAge) of
// connection 1 fires after connection 1 was lost and connection 2 is up,
// while the session's view (upConn, readyConn: set from wsclient's
// events, which come on a goroutine of their own and lag behind a slow
// Config.OnState) still names connection 1. Before, ageOut trusted that
// view: it retired connection 1 — orders not ready — and asked wsclient
// to rotate, which rotates the current connection: connection 2, just
// dialled, replaced for connection 1's age. Now the age-out of a
// connection that is not the client's current one does nothing.
func TestS49sessAgeOutOfALostConnection(t *testing.T) {
	p := newS49sessPeer(t)
	c, err := wsclient.New("ws"+strings.TrimPrefix(p.srv.URL, "http"), func(context.Context, *schema.WsFrame) error { return nil },
		&wsclient.Options{BackoffBase: time.Millisecond, BackoffCap: 20 * time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = c.Run(ctx)
	}()
	require.Eventually(t, func() bool { return c.Stats().ConnID == 1 }, s49sessWait, s49sessEvery, "connection 1 up")
	close(p.cut)
	require.Eventually(t, func() bool { return c.Stats().ConnID == 2 }, s49sessWait, s49sessEvery, "connection 2 up")

	s := &Session{state: newStateBoard(0, true)}
	s.state.update(func(b *stateBoard) { b.ordersReady = true })
	o := &orders{s: s, client: c, upConn: 1, readyConn: 1} // the events of connection 1's loss not handled yet
	o.ageOut(1)
	o.mu.Lock()
	assert.EqualValues(t, 1, o.readyConn, "connection 1 retired") // (its loss's event will clear it)
	assert.Zero(t, o.retired, "connection 1 retired")
	o.mu.Unlock()
	var ready bool
	s.state.update(func(b *stateBoard) { ready = b.ordersReady })
	assert.True(t, ready, "orders held for connection 1's age")
}
