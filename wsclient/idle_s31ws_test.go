package wsclient

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// s31wsStep is what a quietPeer does at one step of the test: a ping of
// the venue's (waiting for the client's pong) and/or a data message.
type s31wsStep struct{ ping, data bool }

// quietPeer sends one data message, then does what each step says, and
// answers the client's pings unless mute: a Binance market stream, whose
// only keep-alive is WebSocket pings ("WebSocket Streams for Binance",
// "General WSS information": a ping every 20 s on spot, every 3 minutes
// on USDⓈ-M futures; no application-level heartbeat).
func quietPeer(steps <-chan s31wsStep, mute bool) func(pc *peerConn) {
	return firstPeer(!mute, func(pc *peerConn) {
		if pc.expectSubs() != nil {
			return
		}
		_ = pc.write(text(`{"n":0}`))
		for n := 1; ; n++ {
			var s s31wsStep
			select {
			case s = <-steps:
			case <-pc.gone:
				return
			case <-pc.done:
				return
			}
			var out [][]byte
			if s.ping {
				out = append(out, wsFrame(true, 0, opPing, fmt.Appendf(nil, "p%d", n), 0))
			}
			if s.data {
				out = append(out, text(fmt.Sprintf(`{"n":%d}`, n)))
			}
			if pc.write(out...) != nil {
				return
			}
			if s.ping {
				select {
				case <-pc.pongs: // the client's reader answered it
				case <-pc.gone:
					return
				case <-pc.done:
					return
				}
			}
		}
	})
}

// s31wsQuiet is a client with the default liveness timeouts (pings every
// 15 s, pong within 10 s, idle 30 s) connected to a quietPeer, its first
// data message delivered.
type s31wsQuiet struct {
	h     *harness
	k     *sink
	p     *rawPeer
	steps chan s31wsStep
	cn    *conn
	tick  time.Duration
}

func startQuiet(t *testing.T, mute bool, idle, dataTimeout time.Duration) *s31wsQuiet {
	leaks := goleak.IgnoreCurrent()
	q := &s31wsQuiet{k: &sink{}, steps: make(chan s31wsStep)}
	q.p = newRawPeer(t, quietPeer(q.steps, mute))
	opts := peerOptions() // no pacing: the fake clock moves only by the test
	opts.PingInterval, opts.PongTimeout, opts.IdleTimeout = DefaultPingInterval, DefaultPongTimeout, idle
	if dataTimeout > 0 {
		opts.DataTimeout, opts.IsData = dataTimeout, isData
	}
	q.h = start(t, q.p.url(), opts, q.k, leaks)
	q.h.rec.waitFor(t, "connected", connected(1))
	q.k.waitFor(t, `{"n":0}`)
	q.cn, q.tick = q.h.live(), q.h.c.watchdogTick()
	return q
}

// step has the peer do s and waits until the client got it.
func (q *s31wsQuiet) step(t *testing.T, i int, s s31wsStep) {
	t.Helper()
	if !s.ping && !s.data {
		return
	}
	select {
	case q.steps <- s:
	case <-q.cn.dead:
		return
	case <-time.After(wait):
		t.Fatal("the peer stopped")
	}
	if s.data {
		msg := fmt.Sprintf(`{"n":%d}`, i)
		require.Eventually(t, func() bool { return isDead(q.cn) || slices.Contains(q.k.got(), msg) }, wait, time.Millisecond)
	}
}

// tickAnswered moves the clock by one watchdog tick and, when the client's ping is
// out and the peer answers pings, waits for its pong: the tests move the
// clock faster than a loaded machine answers.
//
// The reader is back on the socket first: it leaves it for every message,
// and a loaded machine may run it again only after several of the test's
// ticks, which count as busy (no idle, pong or data wait), so a bound
// counted in ticks would see the timeouts late.
func (q *s31wsQuiet) tickAnswered(t *testing.T, answered bool) {
	t.Helper()
	require.Eventually(t, func() bool { return q.cn.phase.Load()&1 == 1 || isDead(q.cn) }, wait, time.Millisecond, "the reader waits")
	tickWatchdog(t, q.h, q.cn, q.tick)
	if answered {
		require.Eventually(t, func() bool { return q.cn.ping.Load()&1 == 0 || isDead(q.cn) }, wait, time.Millisecond, "pong")
	}
}

// Contract 5 (DESIGN.md, "No silent stalls": ping/pong and an idle
// watchdog): a busy stream whose data stops while the venue still pings
// every 20 s and answers our pings (the stall of pybit #242, on a venue
// whose keep-alive is WebSocket pings, as Binance's is) is declared dead by
// the idle watchdog at IdleTimeout on the defaults: pings and pongs prove
// the path, not the data, and do not feed it. (Twice an idea of feeding it
// with them was built and reverted, s30rvws and s31ws: it left this stall
// to DataTimeout, off by default, and a Binance book stale and live.)
func TestS31wsStallBehindLivePingsIsIdle(t *testing.T) {
	q := startQuiet(t, false, DefaultIdleTimeout, 0)
	venuePing := int(20 * time.Second / q.tick)
	i := 1
	for ; i <= int(time.Minute/q.tick); i++ { // busy: data every tick
		q.step(t, i, s31wsStep{ping: i%venuePing == 0, data: true})
		q.tickAnswered(t, true)
	}
	require.False(t, q.h.lostConn1(), "a busy stream lost: %v", q.h.rec.all())
	stalled := 0
	for ; !isDead(q.cn) && time.Duration(stalled)*q.tick <= 3*time.Minute; i, stalled = i+1, stalled+1 {
		q.step(t, i, s31wsStep{ping: i%venuePing == 0})
		q.tickAnswered(t, true)
	}
	lost := requireLost(t, q.h, ReasonIdle)
	require.ErrorIs(t, lost.Err, ErrIdle)
	require.GreaterOrEqual(t, time.Duration(stalled)*q.tick, DefaultIdleTimeout-q.tick, "not before IdleTimeout")
	require.LessOrEqual(t, time.Duration(stalled)*q.tick, DefaultIdleTimeout+2*q.tick, "within a tick of IdleTimeout")
	q.h.finish(nil, q.p.close)
}

// The documented way to keep a quiet stream (an illiquid symbol's trades
// on Binance: nothing to push for minutes, only the venue's pings every
// 20 s): IdleTimeout off (or above the quietest spell), liveness left to
// ping/pong. It is kept for ten minutes of the injected clock on one
// connection, and a data stall is then DataTimeout's (next test).
func TestS31wsQuietStreamKeptWithIdleOff(t *testing.T) {
	q := startQuiet(t, false, -1, 0)
	venuePing := int(20 * time.Second / q.tick)
	n := int(10 * time.Minute / q.tick)
	for i := 1; i <= n; i++ {
		q.step(t, i, s31wsStep{ping: i%venuePing == 0})
		q.tickAnswered(t, true)
		require.False(t, q.h.lostConn1(), "a quiet, live stream lost after %v: %v", time.Duration(i)*q.tick, q.h.rec.all())
	}
	require.EqualValues(t, 1, q.p.n.Load(), "one connection for the ten minutes")
	q.h.finish(nil, q.p.close)
}

// A dead path (the venue neither answers our pings nor pings, nor sends)
// is still declared dead within PingInterval+PongTimeout (25 s on the
// defaults) plus one watchdog tick: the pong timeout, not the idle
// watchdog, judges liveness. So is a half-dead one whose venue still
// pings every 20 s but no longer answers ours (it may no longer read what
// we write): its pings feed the idle watchdog, not the pong timeout.
func TestS31wsDeadPathWithinPingPlusPong(t *testing.T) {
	for _, venuePings := range []bool{false, true} {
		t.Run(fmt.Sprintf("venue pings=%v", venuePings), func(t *testing.T) {
			q := startQuiet(t, true, DefaultIdleTimeout, 0)
			every := int(20 * time.Second / q.tick)
			bound := DefaultPingInterval + DefaultPongTimeout + q.tick
			ticks := 0
			for ; !isDead(q.cn); ticks++ {
				require.LessOrEqual(t, time.Duration(ticks)*q.tick, bound, "a dead path not detected in time")
				q.step(t, ticks, s31wsStep{ping: venuePings && ticks%every == 0})
				q.tickAnswered(t, false)
				if time.Duration(ticks+1)*q.tick >= DefaultPingInterval {
					// The pinger's timer fired: its ping goes out from its
					// own goroutine, which a loaded machine may run only
					// after several of the test's ticks (the fake clock
					// runs ahead of it; CI saw 27.5 s, about 1 run in 75
					// under -race and load). The bound counts from the ping.
					require.Eventually(t, func() bool { return q.cn.ping.Load()&1 == 1 || isDead(q.cn) }, wait, time.Millisecond, "our ping out")
				}
			}
			lost := requireLost(t, q.h, ReasonPongTimeout)
			require.ErrorIs(t, lost.Err, ErrPongTimeout)
			require.GreaterOrEqual(t, time.Duration(ticks)*q.tick, DefaultPingInterval+DefaultPongTimeout, "not before")
			q.h.finish(nil, q.p.close)
		})
	}
}

// With the idle watchdog off for a quiet stream, a busy stream whose data
// stops while the venue still pings and answers our pings is kept without
// DataTimeout (the host's choice, documented) and declared dead
// ([ErrNoData]) at DataTimeout with it, then redialled.
func TestS31wsDataStallBehindPingsNeedsDataTimeout(t *testing.T) {
	for _, dataTimeout := range []time.Duration{0, time.Minute} {
		t.Run(fmt.Sprintf("DataTimeout=%v", dataTimeout), func(t *testing.T) {
			q := startQuiet(t, false, -1, dataTimeout)
			venuePing := int(20 * time.Second / q.tick)
			i := 1
			for ; i <= int(time.Minute/q.tick); i++ { // busy: data every tick
				q.step(t, i, s31wsStep{ping: i%venuePing == 0, data: true})
				q.tickAnswered(t, true)
			}
			require.False(t, q.h.lostConn1(), "a busy stream lost: %v", q.h.rec.all())
			stalled := 0
			for ; !isDead(q.cn) && time.Duration(stalled)*q.tick <= 3*time.Minute; i, stalled = i+1, stalled+1 {
				q.step(t, i, s31wsStep{ping: i%venuePing == 0})
				q.tickAnswered(t, true)
			}
			if dataTimeout == 0 {
				require.False(t, q.h.lostConn1(), "lost without DataTimeout: %v", q.h.rec.all())
				q.h.finish(nil, q.p.close)
				return
			}
			lost := requireLost(t, q.h, ReasonNoData)
			require.ErrorIs(t, lost.Err, ErrNoData)
			require.GreaterOrEqual(t, time.Duration(stalled)*q.tick, dataTimeout, "not before DataTimeout")
			require.LessOrEqual(t, time.Duration(stalled)*q.tick, dataTimeout+2*q.tick, "within a tick of DataTimeout")
			q.h.finish(nil, q.p.close)
		})
	}
}
