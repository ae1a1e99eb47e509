package session

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/wsclient"
)

// TestS37WSAPIGraceKeepsGivenUp: on Binance's WS API, a request whose
// caller gave up (late: its answer may still come) went out on the
// connection a rotation replaced, which delivers its answers for
// RotationOverlap after the switch. A refusal echoing no id ({"id":null,…},
// WebSocket API "Response format") may be that request's answer, so it
// must answer none of the requests made on the new connection (soleAnswer:
// with several awaiting, none). Before s37sess the switch cleared late
// (grace), and the refusal was pinned on the new connection's sole order,
// which then failed with another request's code. When the grace ends (the
// replaced connection closed), the given-up request's answer can no
// longer come, and the new order is sole again.
func TestS37WSAPIGraceKeepsGivenUp(t *testing.T) {
	clk := &s36rRecClock{Clock: wsclient.SystemClock()}
	s := &Session{}
	s.cfg.Client.Clock = clk
	ch3 := make(chan answer, 1)
	o := &orders{s: s, pending: map[uint64]pendingOrder{1: {ch: make(chan answer, 1)}, 3: {ch: ch3}}}
	o.bq = &binanceQueries{o: o}
	o.forget(1, true) // the caller of request 1 gave up; its answer may come
	o.grace(7)        // the switch: the replaced connection answers on
	require.NoError(t, o.deliver(3, answer{ack: Ack{RequestID: 3}}))
	_, ok := answered(ch3)
	require.True(t, ok, "request 3 answered on the replaced connection")
	ch2 := make(chan answer, 1)
	o.mu.Lock()
	o.nextID = 2
	o.pending[2] = pendingOrder{ch: ch2} // made on the new connection
	o.pendConn = 8
	o.mu.Unlock()
	assert.Zero(t, o.sole(7), "request 1 may be answered still: an id-less refusal on its connection answers none")

	clk.mu.Lock()
	require.Equal(t, []time.Duration{prepareOverlap}, clk.waits, "the grace's timer")
	end := clk.fns[0]
	clk.mu.Unlock()
	end() // the grace's end: request 1's answer went with the replaced connection
	assert.Equal(t, uint64(2), o.sole(8), "the new connection's request alone awaits an answer")
	_, ok = answered(ch2)
	require.False(t, ok, "the new connection's request waits on")
	o.failPending(0, ErrClosed)
}

// TestS37WSAPIGivenUpEndWithGrace: a request given up on the connection a
// rotation replaced, alone of that connection at the switch, is no longer
// counted once the replaced connection's grace ends: an id-less refusal on
// the new connection then answers the request alone awaiting one there,
// at once, not at its caller's deadline. Before s37sess a switch with no
// request pending kept the given-up one counted for the life of the new
// connection (sole: several awaiting, none answered).
func TestS37WSAPIGivenUpEndWithGrace(t *testing.T) {
	clk := &s36rRecClock{Clock: wsclient.SystemClock()}
	s := &Session{}
	s.cfg.Client.Clock = clk
	o := &orders{s: s, pending: map[uint64]pendingOrder{1: {ch: make(chan answer, 1), conn: 7}}}
	o.bq = &binanceQueries{o: o}
	o.forget(1, true)
	o.grace(7)
	o.mu.Lock()
	o.pending[2] = pendingOrder{ch: make(chan answer, 1)}
	o.pendConn = 8
	o.mu.Unlock()
	assert.Zero(t, o.sole(7), "in the grace, request 1 may be answered still")
	clk.mu.Lock()
	require.Len(t, clk.fns, 1, "the grace's timer")
	end := clk.fns[0]
	clk.mu.Unlock()
	end()
	assert.Equal(t, uint64(2), o.sole(8))
	o.failPending(0, ErrClosed)
}
