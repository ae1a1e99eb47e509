package wsclient

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The watchdog's first look compares the liveness marks with those of the
// moment its timer was armed (in dial, before the reader and the pinger
// start), not with whatever they are when its goroutine happens to be
// scheduled. On a loaded machine that goroutine may start after the first
// ping went out: counting the whole time since the dial as the pong's wait
// then failed a healthy connection with a pong timeout (seen as
// TestBackoffSchedule losing connection 1 before it was subscribed, once
// the test moved the clock on by two minutes). Here the late start is
// made certain: the ping goes out 1 s after the dial, the watchdog starts
// 3.5 s after it; the pong is due at 4 s, not before.
func TestWatchdogStartedLateCountsFromThePing(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newVenue(t, func(s *session) { <-s.ctx.Done() }) // reads nothing: no pong
	clk := newFakeClock()
	c, err := New(v.url(), nop, &Options{Clock: clk, PingInterval: time.Second, PongTimeout: 3 * time.Second, IdleTimeout: -1})
	require.NoError(t, err)
	ws, _, err := websocket.Dial(context.Background(), v.url(), nil)
	require.NoError(t, err)

	// What dial does, but for starting the goroutines.
	cn := &conn{c: c, ws: ws, dead: make(chan struct{})}
	cn.ctx, cn.cancel = context.WithCancel(context.Background())
	tick := c.watchdogTick()
	dogT, dog0 := clk.NewTimer(tick), clk.Now()

	cn.phase.Add(1) // the reader waits on the socket
	clk.advance(time.Second)
	cn.ping.Add(1) // the ping goes out, at dog0+1s
	clk.advance(2500 * time.Millisecond)
	cn.wg.Add(1)
	go cn.watchdog(tick, dogT, dog0) // scheduled only now

	dead := func() bool {
		select {
		case <-cn.dead:
			return true
		default:
			return false
		}
	}
	require.Eventually(t, func() bool { return cn.checks.Load() > 0 || dead() }, wait, time.Millisecond)
	require.False(t, dead(), "failed %v after the ping (PongTimeout 3s): %v", clk.Now().Sub(dog0)-time.Second, cn.err)

	// The pong's wait still ends the connection, from the ping on.
	for !dead() {
		n := cn.checks.Load()
		clk.advance(tick)
		require.Eventually(t, func() bool { return cn.checks.Load() > n || dead() }, wait, time.Millisecond)
	}
	require.Equal(t, ReasonPongTimeout, cn.reason)
	require.GreaterOrEqual(t, clk.Now().Sub(dog0), 4*time.Second)

	cn.cancel()
	cn.wg.Wait()
	require.NoError(t, c.Close(context.Background()))
	v.close()
	goleak.VerifyNone(t, leaks)
}
