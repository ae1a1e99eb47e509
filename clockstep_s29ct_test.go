package meltica_test

// Outside contract tests, round 4 (s29ct): the host's clock stepped by
// hours under a running client, written from wsclient/doc.go ("Every wait
// ... runs on Options.Clock") without reading the client.

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s29ctStepped is a Clock whose reading can be stepped (an NTP correction,
// an operator, a VM resumed) while its timers go on counting durations, as
// the kernel's do: Now is the fake clock's plus an offset; a wait for an
// instant of the stepped clock waits for the duration it is away from the
// stepped reading at the call.
type s29ctStepped struct {
	*s27ctClock
	off atomic.Int64
}

func (c *s29ctStepped) Now() time.Time { return c.s27ctClock.Now().Add(time.Duration(c.off.Load())) }

func (c *s29ctStepped) SleepUntil(ctx context.Context, at time.Time) error {
	return c.s27ctClock.SleepUntil(ctx, at.Add(-time.Duration(c.off.Load())))
}

func (c *s29ctStepped) step(d time.Duration) { c.off.Add(int64(d)) }

// s29ctUntil moves the fake clock one due timer at a time, up to total,
// until ok; it returns the fake (never stepped) time that passed.
func s29ctUntil(t *testing.T, clk *s29ctStepped, total time.Duration, ok func() bool) time.Duration {
	t.Helper()
	t0 := clk.s27ctClock.Now()
	s27ctAdvance(t, clk.s27ctClock, total, ok)
	return clk.s27ctClock.Now().Sub(t0)
}

func (e *s27ctEvents) has(ok func(wsclient.Event) bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.evs {
		if ok(ev) {
			return true
		}
	}
	return false
}

func s29ctIs(s schema.ConnState) func(wsclient.Event) bool {
	return func(ev wsclient.Event) bool { return ev.State == s }
}

// "No silent stalls" (contract 5) with the clock stepped back two hours
// just after the connection is up: a venue that sends nothing is still
// declared dead after IdleTimeout (30 s) of the timers plus the
// watchdog's tick, not two hours later; stepped forward two hours, it
// is not taken for dead before IdleTimeout: it lives through 25 s of
// timer time, then is lost for idleness.
func TestS29ctClockSteppedIdle(t *testing.T) {
	for name, step := range map[string]time.Duration{"back 2h": -2 * time.Hour, "forward 2h": 2 * time.Hour} {
		t.Run(name, func(t *testing.T) {
			clk := &s29ctStepped{s27ctClock: newS27ctClock()}
			evs := newS27ctEvents()
			c, err := wsclient.New(s27ctSilent(t), s27ctNop, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on,
				PingInterval: -1, CloseTimeout: -1})
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() { done <- c.Run(context.Background()) }()
			t.Cleanup(func() {
				require.NoError(t, c.Close(context.Background()))
				require.NoError(t, <-done)
			})
			evs.await(t, "connected", s29ctIs(schema.ConnConnected))
			s27ctDialDone(t, clk.s27ctClock)
			t0 := clk.s27ctClock.Now()
			clk.step(step)
			if step > 0 {
				s29ctUntil(t, clk, 25*time.Second, nil)
				assert.False(t, evs.has(s29ctIs(schema.ConnDisconnected)), "a clock stepped forward took the connection for idle early")
			}
			s29ctUntil(t, clk, 10*time.Minute, func() bool { return evs.has(s29ctIs(schema.ConnDisconnected)) })
			lost := evs.await(t, "lost", s29ctIs(schema.ConnDisconnected))
			assert.Equal(t, wsclient.ReasonIdle, lost.Reason)
			took := lost.At.Add(-step).Sub(t0) // Event.At is on the (stepped) Clock
			if step < 0 {
				assert.LessOrEqual(t, took, 30*time.Second+30*time.Second/4, "idle detected after the timeout, not the step")
			}
		})
	}
}

// MaxAge is an age "counted from its dial": with the clock stepped back
// two hours just after the dial, the rotation still begins at MaxAge
// (1 min) of the timers, not two hours later — past Binance's 24 h cut,
// which a MaxAge under 24 h is there to beat.
func TestS29ctClockSteppedMaxAge(t *testing.T) {
	send := make(chan struct{})
	clk := &s29ctStepped{s27ctClock: newS27ctClock()}
	evs := newS27ctEvents()
	c, err := wsclient.New(s27ctSendOnce(t, send), s27ctNop, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on,
		PingInterval: -1, IdleTimeout: -1, CloseTimeout: -1, MaxAge: time.Minute})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	t.Cleanup(func() {
		close(send)
		require.NoError(t, c.Close(context.Background()))
		require.NoError(t, <-done)
	})
	evs.await(t, "connected", s29ctIs(schema.ConnConnected))
	s27ctDialDone(t, clk.s27ctClock)
	require.Eventually(t, func() bool {
		for _, d := range clk.Pending() {
			if d == time.Minute {
				return true
			}
		}
		return false
	}, s27ctWait, time.Millisecond, "the connection's MaxAge timer armed")
	clk.step(-2 * time.Hour)
	// the timers moved by MaxAge exactly, then not at all: the rotation
	// begins (moving on through the new dial's timers would race the dial)
	s29ctUntil(t, clk, time.Minute, func() bool { return evs.has(s29ctIs(schema.ConnRotating)) })
	evs.await(t, "the rotation at MaxAge of the connection's age, not of the stepped clock", s29ctIs(schema.ConnRotating))
}

// The redial floor after a close with 1013 (TryAgainDelay, 5 s, plus up
// to a quarter): the clock stepped back two hours during the wait does
// not stretch it; the next connection is dialled within 6.25 s of timers.
func TestS29ctClockSteppedBackoff(t *testing.T) {
	var conns atomic.Int32
	url := s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		if conns.Add(1) == 1 {
			_ = c.Close(websocket.StatusTryAgainLater, "s29ct")
			return
		}
		defer func() { _ = c.CloseNow() }()
		<-c.CloseRead(r.Context()).Done()
	})
	clk := &s29ctStepped{s27ctClock: newS27ctClock()}
	evs := newS27ctEvents()
	c, err := wsclient.New(url, s27ctNop, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on,
		PingInterval: -1, IdleTimeout: -1, CloseTimeout: -1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	t.Cleanup(func() {
		require.NoError(t, c.Close(context.Background()))
		require.NoError(t, <-done)
	})
	re := evs.await(t, "the redial's wait", s29ctIs(schema.ConnReconnecting))
	require.GreaterOrEqual(t, re.Delay, 5*time.Second)
	// the wait's timer armed (the event is announced on a goroutine of its
	// own, before or after): moving the clock before would move it through
	// another timer first
	require.Eventually(t, func() bool {
		for _, d := range clk.Pending() {
			if d == re.Delay {
				return true
			}
		}
		return false
	}, s27ctWait, time.Millisecond, "the redial's wait armed")
	clk.step(-2 * time.Hour)
	second := func(ev wsclient.Event) bool { return ev.State == schema.ConnConnected && ev.ConnID == 2 }
	// the timers moved by the announced wait exactly, then not at all:
	// the redial happens (moving on would move through its dial's timer)
	s29ctUntil(t, clk, re.Delay, func() bool { return evs.has(second) })
	evs.await(t, "redialled after the wait as announced, not two hours more", second)
}
