package meltica_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
)

// Every way an OKX market connection ends, on a loopback OKX written
// from OKX's docs (s36ctOKXMarket): the trades subscriber sees every
// trade once in the venue's order, or a gap marker before the first
// trade after a loss (DESIGN.md contract 4: "the subscriber is told (a
// gap marker it can see), so a strategy never trades on a book it does
// not know is broken"; session doc "Lost market connections": a lost
// market connection "is announced once to every subscriber of its market
// data, whatever types it names"; and "not a rotation, which loses
// nothing").
//
// TCP reset and a close frame (1001 "going away", 1011, OKX's 4004 "No
// data received in 30s"): trades published meanwhile are lost (OKX
// replays no trade), the next connection's trades come after a marker.
func TestS36ctOKXMarketLossAnnounced(t *testing.T) {
	for _, end := range []struct {
		name string
		do   func(c *s30ctConn)
	}{
		{"tcp reset", func(c *s30ctConn) { c.cut() }},
		{"close 1001", func(c *s30ctConn) { go func() { _ = c.c.Close(websocket.StatusGoingAway, "") }() }},
		{"close 1011", func(c *s30ctConn) { go func() { _ = c.c.Close(websocket.StatusInternalError, "") }() }},
		{"close 4004", func(c *s30ctConn) { go func() { _ = c.c.Close(4004, "No data received in 30s.") }() }},
	} {
		t.Run(end.name, func(t *testing.T) {
			m := newS36ctOKXMarket(t)
			s := m.start(t, nil)
			tape := subscribeTape(t, s)
			s31ctConnected(t, s)
			require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond)
			tape.waitTrade(t, m.publish(3))

			old := m.subscribed()[0]
			m.drop(old)
			end.do(old)
			m.lose(2) // trades 4, 5: made while the session had no connection
			require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond, "resubscribed after the loss")
			tape.waitTrade(t, m.publish(3))
			assert.Positive(t, tape.check(t), "the loss announced: %v", tape)
		})
	}
}

// OKX's notice 64008 ("The connection will soon be closed for a service
// upgrade. Please reconnect.", 60 s before the close: OKX v5 "Notification
// of service upgrade"): the session rotates make-before-break (session
// doc: "at once when the venue announces the close (… OKX notice
// 64008)"; "nothing lost, nothing twice"). The venue sends each trade on
// both connections while both are subscribed, then closes the old one:
// the subscriber sees every trade once, in order, and no gap.
func TestS36ctOKXMarketNoticeRotationLosesNothing(t *testing.T) {
	m := newS36ctOKXMarket(t)
	s := m.start(t, nil)
	tape := subscribeTape(t, s)
	s31ctConnected(t, s)
	require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond)
	tape.waitTrade(t, m.publish(3))

	old := m.subscribed()[0]
	old.send(`{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"}`)
	require.Eventually(t, func() bool { return len(m.subscribed()) == 2 }, s27ctWait, time.Millisecond, "a new connection subscribed on the notice")
	m.publish(3) // on both
	rotations := func() uint64 {
		n := uint64(0)
		for _, c := range s.Stats().Market {
			n += c.Client.Rotations
		}
		return n
	}
	require.Eventually(t, func() bool { return rotations() > 0 }, s27ctWait, time.Millisecond, "the rotation switched")
	m.drop(old)
	old.cut() // the venue's close, after the switch
	tape.waitTrade(t, m.publish(3))
	assert.Zero(t, tape.check(t), "a rotation loses nothing and announces no loss: %v", tape)
	assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, tape.all())
}

// A resubscription the venue refuses after a reconnect, for its rate
// (OKX error event 60014 "Requests too frequent": OKX v5 "Error Code",
// WebSocket; transient, unlike 60018 "doesn't exist"): the loss is
// announced to the subscriber, and the subscription is asked again, so
// that the next trades come after the marker. DESIGN.md contract 5: "No
// silent stalls … redialled … and resubscribed". FAILS at 3c01e0f: the
// session never asks again; the connection stays up, WaitConnected
// returns nil, and the trades stream is dead for good (Client.DataTimeout
// is off by default).
func TestS36ctOKXMarketRefusedResubscription(t *testing.T) {
	m := newS36ctOKXMarket(t)
	s := m.start(t, nil)
	tape := subscribeTape(t, s)
	s31ctConnected(t, s)
	require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond)
	tape.waitTrade(t, m.publish(3))

	m.mu.Lock()
	m.refuse = 1
	m.mu.Unlock()
	old := m.subscribed()[0]
	m.drop(old)
	old.cut()
	m.lose(2)
	require.Eventually(t, func() bool {
		return len(m.find("/ws/v5/public", func(s string) bool { return strings.Contains(s, `"op":"subscribe"`) })) >= 2
	}, s27ctWait, time.Millisecond, "the session subscribed again after reconnecting")
	require.Eventually(t, func() bool { return slices.Contains(tape.all(), 0) }, s27ctWait, time.Millisecond, "the loss announced to the trades subscriber: %v", tape)
	wctx, cancel := context.WithTimeout(context.Background(), time.Second)
	werr := s.WaitConnected(wctx)
	cancel()
	var serr *session.SubscribeError
	t.Logf("after the refusal: WaitConnected %v (a *SubscribeError: %v); market stats %+v", werr, errors.As(werr, &serr), s.Stats().Market)
	// Whether the session asks again (on this or a new connection), the
	// next trades it brings must follow the marker.
	require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond,
		"a refused market subscription is asked again (no silent stall: DESIGN.md contract 5); subscribes sent: %d",
		len(m.find("/ws/v5/public", func(s string) bool { return strings.Contains(s, `"op":"subscribe"`) })))
	tape.waitTrade(t, m.publish(3))
	assert.Positive(t, tape.check(t), "%v", tape)
}

// A stall: the venue answers the session's "ping" with "pong" but sends
// no data (OKX v5 "WebSocket → Connect": a client pings when nothing
// came for less than 30 s). With Client.DataTimeout the session's market
// connection is declared dead (wsclient: "DataTimeout declares a
// connection dead … false for a heartbeat, a pong"), redialled and
// resubscribed; the trades lost meanwhile are announced by a marker
// before the next trade. The clock is the session's, moved by the test
// through the heartbeats' and the watchdog's timers only (each at most
// 5 s ahead: never the dial's or an answer's deadline).
func TestS36ctOKXMarketStallPongsNoData(t *testing.T) {
	m := newS36ctOKXMarket(t)
	clk := newS27ctClock()
	s := m.start(t, func(c *session.Config) {
		c.Client.Clock = clk
		c.Client.HeartbeatInterval = 5 * time.Second
		c.Client.DataTimeout = 20 * time.Second
	})
	tape := subscribeTape(t, s)
	s31ctConnected(t, s)
	require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond)
	s27ctDialDone(t, clk)
	tape.waitTrade(t, m.publish(3))

	old := m.subscribed()[0]
	m.drop(old) // the venue goes on answering pings on it, nothing else
	m.lose(2)
	t.Logf("after the drop: %s", m.seen())
	moved := time.Duration(0)
	for len(m.subscribed()) == 0 {
		var next time.Duration
		require.Eventually(t, func() bool {
			if len(m.subscribed()) > 0 {
				return true
			}
			// The first heartbeat is due 5 s after the dial at the
			// latest: once the clock passed it, the ping must have
			// reached the venue before the clock moves on (the session
			// writes it on its own goroutine; moved on at once, the
			// data timeout can close the connection first, and the
			// venue never hears it: seen at load in CI run 73).
			if moved >= 5*time.Second && len(m.find("/ws/v5/public", func(s string) bool { return s == "ping" })) == 0 {
				return false
			}
			for _, d := range clk.Pending() {
				if d > 0 && d <= 5*time.Second {
					next = d
					return true
				}
			}
			return false
		}, s27ctWait, time.Millisecond, "a timer of the stall's watch pending (moved %v): %v; %s", moved, clk.Pending, m.seen())
		if len(m.subscribed()) > 0 {
			break
		}
		require.Less(t, moved, 2*time.Minute, "no new connection after %v of pongs without data", moved)
		clk.Advance(next)
		moved += next
	}
	pongs := len(m.find("/ws/v5/public", func(s string) bool { return s == "ping" }))
	assert.Positive(t, pongs, "the session pinged and the venue answered while it sent no data; %s", m.seen())
	// Published until one arrives, the clock moved meanwhile by the
	// pending timers (a connection replaced again redials after a backoff
	// on this clock): a trade sent to a connection the session has
	// replaced is lost, as on the venue (the check below then wants its
	// marker too).
	after := func() bool { return slices.ContainsFunc(tape.all(), func(x int) bool { return x > 5 }) }
	for !after() {
		m.publish(1)
		var next time.Duration
		require.Eventually(t, func() bool {
			if after() {
				return true
			}
			for _, d := range clk.Pending() {
				if d > 0 && d <= 5*time.Second {
					next = d
					return true
				}
			}
			return false
		}, s27ctWait, time.Millisecond, "no trade after the stall's reconnect: %v", tape)
		if after() {
			break
		}
		require.Less(t, moved, 10*time.Minute, "no trade after %v: %v", moved, tape)
		clk.Advance(next)
		moved += next
	}
	assert.Positive(t, tape.check(t), "the stall's loss announced: %v", tape)
}
