package wsclient

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// Options.Heartbeat is written every HeartbeatInterval on the Clock, from
// the dial (OKX's text "ping", Bybit's {"op":"ping"}), never before; the
// venue's answer reaches the handler and, on a stream that is otherwise
// quiet, keeps the idle watchdog from declaring the connection dead (OKX
// closes a connection that pushed nothing for 30 s: IdleTimeout 30 s would
// otherwise give up on it too).
func TestHeartbeatKeepsQuietStreamAlive(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	pings := make(chan string, 16)
	subscribed := make(chan struct{})
	p := newRawPeer(t, firstPeer(true, func(pc *peerConn) {
		if pc.expectSubs() != nil {
			return
		}
		close(subscribed)
		for {
			select {
			case m := <-pc.msgs:
				pings <- m
				_ = pc.write(text("pong"))
			case <-pc.gone:
				return
			case <-pc.done:
				return
			}
		}
	}))
	opts := peerOptions()
	opts.Heartbeat = []byte("ping")
	opts.IdleTimeout = 30 * time.Second
	opts.HeartbeatInterval = 15 * time.Second // OKX: N < 30 s
	k := &sink{}
	h := start(t, p.url(), opts, k, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	recvWait(t, subscribed, "subscriptions")
	cn := h.live()
	tick := h.c.watchdogTick() // 30 s / 8: the interval is 4 ticks
	require.Equal(t, opts.HeartbeatInterval, 4*tick)
	for i := 1; i <= 4; i++ { // 60 s of a stream that sends nothing but pongs
		for range 3 {
			tickWatchdog(t, h, cn, tick)
		}
		require.Empty(t, pings, "heartbeat %d before its interval", i)
		tickWatchdog(t, h, cn, tick)
		require.Equal(t, "ping", recvWait(t, pings, "heartbeat"))
		next := h.clock.Now().Add(opts.HeartbeatInterval)
		require.Eventually(t, func() bool { return h.clock.armedAt(next) }, wait, time.Millisecond, "next heartbeat armed")
		require.Eventually(t, func() bool { return len(k.got()) == i }, wait, time.Millisecond, "pong %d delivered", i)
	}
	require.Zero(t, h.c.Stats().TotalReconnects(), "events: %v", h.rec.all())
	require.Equal(t, []string{"pong", "pong", "pong", "pong"}, k.got())
	h.finish(nil, p.close)
}

// Without the heartbeat the same quiet stream is declared idle: the
// watchdog, not the venue, ends it.
func TestNoHeartbeatQuietStreamIdles(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	subscribed := make(chan struct{})
	p := newRawPeer(t, firstPeer(true, func(pc *peerConn) {
		if pc.expectSubs() == nil {
			close(subscribed)
			pc.hold()
		}
	}))
	opts := peerOptions()
	opts.IdleTimeout = 30 * time.Second
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	recvWait(t, subscribed, "subscriptions")
	cn := h.live()
	for !h.lostConn1() && h.clock.Now().Sub(newFakeClock().Now()) < time.Minute {
		tickWatchdog(t, h, cn, h.c.watchdogTick())
	}
	lost := conn1Lost(t, h)
	require.Equal(t, ReasonIdle, lost.Reason)
	require.Empty(t, p.conn(1).msgs, "no heartbeat written")
	h.finish(nil, p.close)
}

// A negative HeartbeatInterval is refused.
func TestHeartbeatIntervalNegative(t *testing.T) {
	_, err := New("ws://127.0.0.1:1/", (&sink{}).handle, &Options{Venue: schema.VenueOKX, Heartbeat: []byte("ping"), HeartbeatInterval: -1})
	require.ErrorContains(t, err, "HeartbeatInterval")
}
