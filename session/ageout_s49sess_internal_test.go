package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
	c, _ := startS49sessClient(t, p)
	s49sessLoseFirst(t, p, c)

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
