package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/wsclient"
)

// TestS37rvwsReplacedEndEndsGrace: a request in flight on the connection
// a rotation replaced waits on through the switch for that connection's
// answers (grace); when wsclient reports that connection ended before
// the grace ran out (Options.OnReplacedEnd: the venue closed it, it was
// lost), no answer can come on it any more, and the request ends at once
// with ErrDisconnected (ErrClosed while the session closes), not when
// the session's grace timer would fire. A request on the new connection
// waits on; the end of a connection other than the one replaced ends
// nothing; the end may reach the session before the switch's Connected
// event does (it comes on wsclient's retiring goroutine). Before s37rvws
// the request waited out prepareOverlap.
func TestS37rvwsReplacedEndEndsGrace(t *testing.T) {
	onNew := func(v *venueOrders) chan answer {
		ch := make(chan answer, 1)
		v.mu.Lock()
		v.pending[2] = pendingOrder{ch: ch, conn: 2}
		v.mu.Unlock()
		return ch
	}
	t.Run("venue orders", func(t *testing.T) {
		v, ch := graceRig()
		v.graceFrom(2)
		v.retain(2, false)
		ch2 := onNew(v)
		v.replacedEnded(3) // not the replaced connection
		_, ok := answered(ch)
		require.False(t, ok)
		v.replacedEnded(1)
		a, ok := answered(ch)
		require.True(t, ok, "ended with the replaced connection")
		assert.ErrorIs(t, a.err, ErrDisconnected)
		_, ok = answered(ch2)
		require.False(t, ok, "the new connection's request waits on")
		v.retain(0, true)
	})
	t.Run("venue orders, end before the switch's event", func(t *testing.T) {
		v, ch := graceRig()
		v.replacedEnded(1)
		a, ok := answered(ch)
		require.True(t, ok)
		assert.ErrorIs(t, a.err, ErrDisconnected)
		v.graceFrom(2)
		v.retain(2, false)
		v.retain(0, true)
	})
	t.Run("venue orders, closing", func(t *testing.T) {
		v, ch := graceRig()
		v.graceFrom(2)
		v.retain(2, false)
		v.s.closing.Store(true)
		v.replacedEnded(1)
		a, ok := answered(ch)
		require.True(t, ok)
		assert.ErrorIs(t, a.err, ErrClosed)
		v.retain(0, true)
	})

	s := &Session{}
	s.cfg.Client.Clock = wsclient.SystemClock()
	newOrders := func() (*orders, chan answer) {
		ch := make(chan answer, 1)
		return &orders{s: s, pending: map[uint64]pendingOrder{1: {ch: ch}}}, ch
	}
	t.Run("ws api", func(t *testing.T) {
		o, ch := newOrders()
		o.grace(7)
		ch2 := make(chan answer, 1)
		o.mu.Lock()
		o.pending[2] = pendingOrder{ch: ch2} // made on the new connection
		o.mu.Unlock()
		o.replacedEnded(6) // a connection replaced before
		_, ok := answered(ch)
		require.False(t, ok)
		o.replacedEnded(7)
		a, ok := answered(ch)
		require.True(t, ok, "ended with the replaced connection")
		assert.ErrorIs(t, a.err, ErrDisconnected)
		assert.Nil(t, o.graceEnd, "the grace's timer stopped")
		_, ok = answered(ch2)
		require.False(t, ok, "the new connection's request waits on")
		o.failPending(0, ErrClosed)
	})
	t.Run("ws api, end before the switch's event", func(t *testing.T) {
		o, ch := newOrders()
		o.replacedEnded(7)
		_, ok := answered(ch)
		require.False(t, ok, "no switch yet")
		o.grace(7)
		a, ok := answered(ch)
		require.True(t, ok, "the replaced connection ended already: no grace")
		assert.ErrorIs(t, a.err, ErrDisconnected)
		assert.Nil(t, o.graceEnd)
		o.failPending(0, ErrClosed)
	})
}
