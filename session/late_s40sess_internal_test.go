package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/wsclient"
)

// lateRig is Binance's orders with request 1 given up on connection 1
// (the old one) and request 2, the user-data subscription given up on
// connection 2 (a rotation's new one, or the connection up after a loss
// the event goroutine reports late): each late entry records its
// connection (pendingOrder.conn).
func lateRig() *orders {
	s := &Session{}
	s.cfg.Client.Clock = wsclient.SystemClock()
	o := &orders{s: s, pending: map[uint64]pendingOrder{}}
	o.lateLocked(1, pendingOrder{conn: 1})
	o.lateLocked(2, pendingOrder{conn: 2})
	return o
}

// TestS40sessLostConnectionForgetsOnlyItsLate: connection 1's loss ends
// the waits of the requests on it, its given-up requests with them (their
// answers went with it), but not connection 2's: an id-less refusal there
// may still answer its given-up request, which sole must count (or it
// pairs that refusal with an order alone in flight on 2). Before s40sess
// failPending cleared every late entry, another connection's too; a
// switch's grace, which moves the replaced connection's late ones aside,
// took the new connection's with them, cleared at the grace's end.
func TestS40sessLostConnectionForgetsOnlyItsLate(t *testing.T) {
	t.Run("loss", func(t *testing.T) {
		o := lateRig()
		o.failPending(1, ErrDisconnected)
		assert.NotContains(t, o.late, uint64(1), "the lost connection's given-up request forgotten")
		require.Contains(t, o.late, uint64(2), "the other connection's given-up request still counted")
		assert.Zero(t, o.sole(2), "a refusal on 2 may be its given-up request's: no sole request")
	})
	t.Run("close", func(t *testing.T) {
		o := lateRig()
		o.failPending(0, ErrClosed)
		assert.Empty(t, o.late)
	})
	t.Run("grace", func(t *testing.T) {
		o := lateRig()
		o.grace(1)
		assert.Contains(t, o.lateGraced, uint64(1), "the replaced connection's, counted in its grace")
		assert.NotContains(t, o.lateGraced, uint64(2))
		o.mu.Lock()
		o.endGraceLocked(ErrDisconnected)
		o.mu.Unlock()
		assert.Empty(t, o.lateGraced)
		require.Contains(t, o.late, uint64(2), "the new connection's given-up request outlives the grace")
	})
	t.Run("replaced gone first", func(t *testing.T) {
		o := lateRig()
		o.replacedGone = 1
		o.grace(1)
		assert.NotContains(t, o.late, uint64(1))
		require.Contains(t, o.late, uint64(2))
	})
}
