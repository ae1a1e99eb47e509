package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/wsclient"
)

// graceRig is a venueOrders with request 1 in flight on connection 1.
func graceRig() (*venueOrders, chan answer) {
	s := &Session{}
	s.cfg.Client.Clock = wsclient.SystemClock()
	v := &venueOrders{s: s, pending: map[uint64]pendingOrder{}, late: map[uint64]pendingOrder{}}
	ch := make(chan answer, 1)
	v.pending[1] = pendingOrder{ch: ch, conn: 1}
	return v, ch
}

// answered is the answer on ch, if one came.
func answered(ch chan answer) (answer, bool) {
	select {
	case a := <-ch:
		return a, true
	default:
		return answer{}, false
	}
}

// TestS36GraceEnds: a request in flight on the connection a rotation
// replaced waits on through the switch (the replaced connection still
// answers), and ends with ErrDisconnected when its grace ends, when a
// loss cuts the grace short, or at the next switch (one replaced
// connection answers at a time); a request on the connection the next
// switch replaces waits on; Close ends what is left with ErrClosed.
func TestS36GraceEnds(t *testing.T) {
	t.Run("grace end", func(t *testing.T) {
		v, ch := graceRig()
		v.graceFrom(2)
		v.retain(2, false)
		_, ok := answered(ch)
		require.False(t, ok, "waits on through the switch")
		v.endGrace(2)
		a, ok := answered(ch)
		require.True(t, ok)
		assert.ErrorIs(t, a.err, ErrDisconnected)
		assert.Nil(t, v.graceEnd)
	})
	t.Run("loss", func(t *testing.T) {
		v, ch := graceRig()
		v.graceFrom(2)
		v.retain(2, false)
		v.retain(0, false) // the new connection lost
		a, ok := answered(ch)
		require.True(t, ok)
		assert.ErrorIs(t, a.err, ErrDisconnected)
		assert.Zero(t, v.graceFor)
		assert.Nil(t, v.graceEnd)
	})
	t.Run("next switch", func(t *testing.T) {
		v, ch := graceRig()
		v.graceFrom(2)
		v.retain(2, false)
		ch2 := make(chan answer, 1)
		v.mu.Lock()
		v.pending[2] = pendingOrder{ch: ch2, conn: 2}
		v.mu.Unlock()
		v.graceFrom(3)
		v.retain(3, false)
		a, ok := answered(ch)
		require.True(t, ok, "the connection replaced two switches ago is closed")
		assert.ErrorIs(t, a.err, ErrDisconnected)
		_, ok = answered(ch2)
		require.False(t, ok, "the one replaced now answers on")
		v.endGrace(1) // an earlier grace's end: nothing
		_, ok = answered(ch2)
		require.False(t, ok)
		v.retain(0, true) // Close
		a, ok = answered(ch2)
		require.True(t, ok)
		assert.ErrorIs(t, a.err, ErrClosed)
	})
}

// TestS36WSAPIGraceEnds: on Binance's WS API, the requests pending at a
// prepared switch wait on for the replaced connection's answers (grace):
// an answer then reaches its caller; a loss (failPending) or the next
// switch ends the wait with ErrDisconnected, and a request made on the
// new connection is not among them.
func TestS36WSAPIGraceEnds(t *testing.T) {
	s := &Session{}
	s.cfg.Client.Clock = wsclient.SystemClock()
	newOrders := func() (*orders, chan answer) {
		ch := make(chan answer, 1)
		return &orders{s: s, pending: map[uint64]pendingOrder{1: {ch: ch}}}, ch
	}
	t.Run("answered", func(t *testing.T) {
		o, ch := newOrders()
		o.grace(7)
		_, ok := answered(ch)
		require.False(t, ok, "waits on through the switch")
		require.NoError(t, o.deliver(1, answer{ack: Ack{RequestID: 1}}))
		a, ok := answered(ch)
		require.True(t, ok)
		assert.NoError(t, a.err)
		o.failPending(0, ErrClosed) // (stops the grace's timer)
	})
	t.Run("loss", func(t *testing.T) {
		o, ch := newOrders()
		o.grace(7)
		o.failPending(0, ErrDisconnected)
		a, ok := answered(ch)
		require.True(t, ok)
		assert.ErrorIs(t, a.err, ErrDisconnected)
		assert.Nil(t, o.graceEnd)
	})
	t.Run("next switch", func(t *testing.T) {
		o, ch := newOrders()
		o.grace(7)
		ch2 := make(chan answer, 1)
		o.mu.Lock()
		o.pending[2] = pendingOrder{ch: ch2} // made on the new connection
		o.mu.Unlock()
		o.grace(7)
		a, ok := answered(ch)
		require.True(t, ok, "the connection replaced two switches ago is closed")
		assert.ErrorIs(t, a.err, ErrDisconnected)
		_, ok = answered(ch2)
		require.False(t, ok, "the one replaced now answers on")
		o.failPending(0, ErrClosed)
		a, ok = answered(ch2)
		require.True(t, ok)
		assert.ErrorIs(t, a.err, ErrClosed)
	})
}
