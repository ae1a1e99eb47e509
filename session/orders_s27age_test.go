package session_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// ageClock is the system clock whose AfterFuncs of an hour or more fire
// only when the test says (the session's connection ages); shorter ones
// (wsclient's pings, watchdogs, rotation overlap) run on the system clock.
type ageClock struct {
	wsclient.Clock
	mu   sync.Mutex
	long []*ageTimer
}

type ageTimer struct {
	d       time.Duration
	f       func()
	mu      *sync.Mutex
	stopped bool
}

func (t *ageTimer) C() <-chan time.Time { return nil }
func (t *ageTimer) Stop() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}
func (t *ageTimer) Reset(time.Duration) bool { return false }

func (c *ageClock) AfterFunc(d time.Duration, f func()) wsclient.Timer {
	if d < time.Hour {
		return c.Clock.AfterFunc(d, f)
	}
	t := &ageTimer{d: d, f: f, mu: &c.mu}
	c.mu.Lock()
	c.long = append(c.long, t)
	c.mu.Unlock()
	return t
}

// pending is the durations of the long timers not stopped.
func (c *ageClock) pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ds []time.Duration
	for _, t := range c.long {
		if !t.stopped {
			ds = append(ds, t.d)
		}
	}
	return ds
}

// fire runs the long timers not stopped.
func (c *ageClock) fire() {
	c.mu.Lock()
	var fs []func()
	for _, t := range c.long {
		if !t.stopped {
			t.stopped = true
			fs = append(fs, t.f)
		}
	}
	c.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// TestS27WSAPIReplacedBeforeDayLimit: Binance ends a WS-API connection
// at 24 h (WebSocket API "General API Information": "A single connection
// to the API is only valid for 24 hours; expect to be disconnected after
// the 24 hour mark"); an order in flight then loses its answer
// (ErrDisconnected: outcome unknown). The session replaces the
// connection at 23 h as it does after serverShutdown: the order after it
// goes on a new connection whose user data is subscribed, and the new
// connection ages in its turn.
func TestS27WSAPIReplacedBeforeDayLimit(t *testing.T) {
	clk := &ageClock{Clock: wsclient.SystemClock()}
	api, s := scriptedSessionWith(t, func(cfg *session.Config) { cfg.Client.Clock = clk })
	require.Eventually(t, func() bool { return len(clk.pending()) == 1 }, generous, pollEvery)
	assert.Equal(t, 23*time.Hour, clk.pending()[0], "under the venue's 24 h")

	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req1 := limitOrder(s, t, "age-1", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req1)
	done := placeAsync(ctx, s, req1)
	r1 := api.next(t)
	require.NoError(t, r1.answer(ackBody(r1.id, "age-1", 1)))
	require.NoError(t, <-done)
	subs := s.Stats().Order.UserDataSubs

	clk.fire() // 23 h
	req2 := limitOrder(s, t, "age-2", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req2)
	done = placeAsync(ctx, s, req2)
	r2 := api.next(t)
	assert.True(t, r1.conn != r2.conn, "the order after 23 h goes on a new connection")
	assert.Greater(t, s.Stats().Order.UserDataSubs, subs, "whose user data was subscribed first")
	require.NoError(t, r2.answer(ackBody(r2.id, "age-2", 2)))
	require.NoError(t, <-done)
	require.Eventually(t, func() bool { return len(clk.pending()) == 1 }, generous, pollEvery, "the new connection ages in its turn, the old one's timer stopped")
}
