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

// The venue's notice that the private connection will close (OKX 64008,
// Bybit and Kraken maintenance) is read on connection 1 and handled by
// the private worker, which is behind wsclient: connection 1 was lost
// meanwhile and connection 2 is up, its Connected step still queued.
// Before, retire took the notice for the live connection: orders not
// ready, and a Client.Rotate — which rotates the current connection,
// connection 2, just dialled and logging in, replaced for connection 1's
// notice. Now the notice of a connection that is no longer the client's
// current one retires nothing (the loss's step, next, does what a loss
// does).
func TestS49sessRetireNoticeOfALostConnection(t *testing.T) {
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
	pv := &private{s: s, client: c, conn: 1, ready: true} // the worker's view: connection 1's loss not stepped yet
	pv.retire()
	assert.Zero(t, pv.retiring, "connection 1 retired after its loss")
	var ready bool
	s.state.update(func(b *stateBoard) { ready = b.ordersReady })
	assert.True(t, ready, "orders held for a gone connection's notice")
}
