package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
	c, _ := startS49sessClient(t, p)
	s49sessLoseFirst(t, p, c)

	s := &Session{state: newStateBoard(0, true)}
	s.state.update(func(b *stateBoard) { b.ordersReady = true })
	pv := &private{s: s, client: c, conn: 1, ready: true} // the worker's view: connection 1's loss not stepped yet
	pv.retire()
	assert.Zero(t, pv.retiring, "connection 1 retired after its loss")
	var ready bool
	s.state.update(func(b *stateBoard) { ready = b.ordersReady })
	assert.True(t, ready, "orders held for a gone connection's notice")
}
