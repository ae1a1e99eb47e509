package meltica_test

import (
	"context"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/wsclient"
)

// s27ctClock is a wsclient.Clock that moves only when the test says so
// (written from the Clock and Timer docs alone: time.Timer's semantics
// since Go 1.23, no stale value after Stop or Reset).
type s27ctClock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*s27ctTimer]struct{}
	armed  chan struct{} // closed and replaced whenever a timer is armed
}

type s27ctTimer struct {
	clk *s27ctClock
	c   chan time.Time
	f   func()
	at  time.Time
}

func newS27ctClock() *s27ctClock {
	return &s27ctClock{now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), timers: map[*s27ctTimer]struct{}{}, armed: make(chan struct{})}
}

func (c *s27ctClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *s27ctClock) Sleep(ctx context.Context, d time.Duration) error {
	return sleepOn(ctx, c.NewTimer(d))
}

// sleepOn waits for t or until ctx ends, and stops t.
func sleepOn(ctx context.Context, t wsclient.Timer) error {
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}

// SleepUntil waits for the instant at or until ctx ends: the optional
// method wsclient.Clock's doc names for a fake clock. The client's frame
// budget (and DialLimit) waits for an instant; Sleep would be given the
// time left, read before the call, and a test that moves the clock in
// between (any other timer due first, a ping's, a watchdog's) had the
// wait armed a whole gap after the moved time, where no test looks: the
// next subscription never went (TestS27ctClientControlRatePinging).
func (c *s27ctClock) SleepUntil(ctx context.Context, at time.Time) error {
	t := &s27ctTimer{clk: c, c: make(chan time.Time, 1)}
	c.mu.Lock()
	c.arm(t, at.Sub(c.now)) // the time left, read under the lock that Advance takes
	c.mu.Unlock()
	return sleepOn(ctx, t)
}

func (c *s27ctClock) NewTimer(d time.Duration) wsclient.Timer {
	t := &s27ctTimer{clk: c, c: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

func (c *s27ctClock) AfterFunc(d time.Duration, f func()) wsclient.Timer {
	t := &s27ctTimer{clk: c, f: f}
	t.Reset(d)
	return t
}

// arm registers t (c.mu held) or fires it at once when due.
func (c *s27ctClock) arm(t *s27ctTimer, d time.Duration) {
	t.at = c.now.Add(d)
	if d <= 0 {
		c.fire(t, c.now)
		return
	}
	c.timers[t] = struct{}{}
	close(c.armed)
	c.armed = make(chan struct{})
}

func (c *s27ctClock) fire(t *s27ctTimer, now time.Time) {
	if t.f != nil {
		go t.f()
		return
	}
	select {
	case t.c <- now:
	default:
	}
}

func (t *s27ctTimer) C() <-chan time.Time { return t.c }

func (t *s27ctTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	_, active := t.clk.timers[t]
	delete(t.clk.timers, t)
	t.drain()
	return active
}

func (t *s27ctTimer) Reset(d time.Duration) bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	_, active := t.clk.timers[t]
	delete(t.clk.timers, t)
	t.drain()
	t.clk.arm(t, d)
	return active
}

func (t *s27ctTimer) drain() {
	if t.c == nil {
		return
	}
	select {
	case <-t.c:
	default:
	}
}

// Advance moves the clock by d and fires every timer due, in order.
func (c *s27ctClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*s27ctTimer
	for t := range c.timers {
		if !t.at.After(c.now) {
			due = append(due, t)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		delete(c.timers, t)
		c.fire(t, c.now)
	}
	c.mu.Unlock()
}

// Pending returns the durations until each armed timer fires.
func (c *s27ctClock) Pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for t := range c.timers {
		out = append(out, t.at.Sub(c.now))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// s27ctDialDone waits until the dial's timeout, armed on clk for
// wsclient.DefaultDialTimeout when the dial began (clk not moved since),
// is no longer pending. Connected is announced from within the dial,
// before the dial stops that timer: a test that then moves clk to the
// next timer due may move it through the dial's 10 s instead of to the
// timer it meant (the write's WriteTimeout armed after: a write cut at
// 15 s of the clock).
func s27ctDialDone(t *testing.T, clk *s27ctClock) {
	t.Helper()
	require.Eventually(t, func() bool {
		return !slices.Contains(clk.Pending(), wsclient.DefaultDialTimeout)
	}, s27ctWait, time.Millisecond, "the dial's timeout disarmed")
}
