package wsclient

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// pingingPeer sends one data message, then a ping at each step while
// pinging says so: a quiet venue that keeps its connection alive with
// WebSocket pings only (Binance: a ping every 20 s, "WebSocket Streams
// for Binance", "Connection": the pong wanted within a minute).
func pingingPeer(step <-chan bool, pongs chan<- []byte) func(pc *peerConn) {
	return faultyPeer(func(pc *peerConn) {
		_ = pc.write(text(`{"n":0}`))
		for n := 1; ; n++ {
			select {
			case ping := <-step:
				if !ping {
					continue
				}
				if pc.write(wsFrame(true, 0, opPing, fmt.Appendf(nil, "p%d", n), 0)) != nil {
					return
				}
				select {
				case p := <-pc.pongs: // the client's reader handled the ping
					pongs <- p
				case <-pc.gone:
					return
				case <-pc.done:
					return
				}
			case <-pc.gone:
				return
			case <-pc.done:
				return
			}
		}
	})
}

// A quiet healthy stream is kept: the venue's pings (control frames, no
// messages) feed the idle watchdog, so a Binance stream with nothing to
// push, pinged every 20 s, is not redialled every IdleTimeout (30 s by
// default). Once the pings stop too, the connection is dead and is
// declared so at IdleTimeout ([ErrIdle]). With DataTimeout set, the pings
// do not hide a stall of the data (pybit #242: pings flow, prices stop):
// the connection is lost for no data instead. Failed before (the idle
// watchdog counted only whole messages): the quiet connection was lost at
// IdleTimeout while the pings came.
func TestS30rvwsVenuePingsFeedIdleWatchdog(t *testing.T) {
	for _, dataTimeout := range []time.Duration{0, 3 * time.Second} {
		t.Run(fmt.Sprintf("DataTimeout=%v", dataTimeout), func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			step, pongs := make(chan bool), make(chan []byte, 1)
			p := newRawPeer(t, pingingPeer(step, pongs))
			opts := peerOptions() // our pings off: only the venue's
			opts.IdleTimeout = time.Second
			if dataTimeout > 0 {
				opts.DataTimeout, opts.IsData = dataTimeout, isData
			}
			k := &sink{}
			h := start(t, p.url(), opts, k, leaks)
			h.rec.waitFor(t, "connected", connected(1))
			k.waitFor(t, `{"n":0}`)
			cn, tick := h.live(), h.c.watchdogTick()
			ticks := 0
			for ; !isDead(cn); ticks++ { // a ping every other tick
				require.Less(t, ticks, 200, "never lost")
				if ticks%2 == 0 {
					select {
					case step <- true:
						recvWait(t, pongs, "the pong")
					case <-cn.dead:
						continue
					}
				}
				tickWatchdog(t, h, cn, tick)
				if dataTimeout == 0 && ticks%2 == 0 && time.Duration(ticks)*tick > 3*opts.IdleTimeout {
					break // kept for 3 IdleTimeouts; the last tick saw a ping
				}
			}
			if dataTimeout > 0 {
				lost := requireLost(t, h, ReasonNoData)
				require.ErrorIs(t, lost.Err, ErrNoData)
				require.GreaterOrEqual(t, time.Duration(ticks)*tick, dataTimeout, "not before DataTimeout")
				require.Zero(t, h.c.Stats().Reconnects[ReasonIdle], "the pings fed the idle watchdog")
				h.finish(nil, p.close)
				return
			}
			require.False(t, h.lostConn1(), "a pinged quiet connection lost: %v", h.rec.all())
			// The pings stop: dead, declared so at IdleTimeout.
			quiet := 0
			for ; !isDead(cn); quiet++ {
				require.Less(t, quiet, 200, "a silent connection never declared idle")
				tickWatchdog(t, h, cn, tick)
			}
			lost := requireLost(t, h, ReasonIdle)
			require.ErrorIs(t, lost.Err, ErrIdle)
			require.GreaterOrEqual(t, time.Duration(quiet)*tick, opts.IdleTimeout, "not before IdleTimeout")
			h.finish(nil, p.close)
		})
	}
}

// Our pings answered keep a quiet connection too: a venue that never
// pings and has nothing to push (an account's private stream, a rarely
// traded symbol), with the client's pings on, is not redialled at
// IdleTimeout while its pongs come; the pong timeout judges it. Failed
// before: lost at IdleTimeout with its pongs answered.
func TestS30rvwsPongsFeedIdleWatchdog(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer) // answers pings, then says nothing
	opts := peerOptions()
	opts.PingInterval, opts.PongTimeout, opts.IdleTimeout = 250*time.Millisecond, time.Second, time.Second
	k := &sink{}
	h := start(t, p.url(), opts, k, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	k.waitFor(t, `{"conn":1}`)
	cn, tick := h.live(), h.c.watchdogTick()
	for i := 0; time.Duration(i)*tick <= 4*opts.IdleTimeout; i++ {
		tickWatchdog(t, h, cn, tick)
		require.Eventually(t, func() bool { return cn.ping.Load()&1 == 0 || isDead(cn) }, wait, time.Millisecond, "pong")
		require.False(t, h.lostConn1(), "a quiet connection with its pongs lost at tick %d: %v", i, h.rec.all())
	}
	require.GreaterOrEqual(t, cn.pace.pongs.Load(), uint64(4), "the pongs that kept it")
	h.finish(nil, p.close)
}
