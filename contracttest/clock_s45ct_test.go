package contracttest_test

import (
	"context"
	"sync"
	"time"

	"github.com/meltica/meltica/wsclient"
)

// fakeClock is a wsclient.Clock that moves only when Advance is called, so
// that no test waits on wall-clock time and no watchdog fires on its own.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*fakeTimer]struct{}
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), timers: map[*fakeTimer]struct{}{}}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *fakeClock) NewTimer(d time.Duration) wsclient.Timer {
	t := &fakeTimer{clock: c, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) wsclient.Timer {
	t := &fakeTimer{clock: c, fn: f}
	t.Reset(d)
	return t
}

// Advance moves the clock by d and fires every timer now due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for t := range c.timers {
		if !t.when.After(c.now) {
			due = append(due, t)
			delete(c.timers, t)
		}
	}
	now := c.now
	c.mu.Unlock()
	for _, t := range due {
		t.fire(now)
	}
}

// nextDue returns the time from now to the earliest armed timer, false
// when none is armed.
func (c *fakeClock) nextDue() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Time
	for t := range c.timers {
		if next.IsZero() || t.when.Before(next) {
			next = t.when
		}
	}
	return next.Sub(c.now), !next.IsZero()
}

type fakeTimer struct {
	clock *fakeClock
	ch    chan time.Time
	fn    func()
	when  time.Time
	d     time.Duration
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) fire(now time.Time) {
	if t.fn != nil {
		go t.fn()
		return
	}
	select {
	case t.ch <- now:
	default:
	}
}

// Stop and Reset drain C, as time.Timer does since Go 1.23: no stale value
// is received after they return.
func (t *fakeTimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	_, active := c.timers[t]
	delete(c.timers, t)
	t.drain()
	c.mu.Unlock()
	return active
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	c := t.clock
	c.mu.Lock()
	_, active := c.timers[t]
	t.drain()
	t.d = d
	t.when = c.now.Add(d)
	now := c.now
	if d > 0 {
		c.timers[t] = struct{}{}
		c.mu.Unlock()
		return active
	}
	delete(c.timers, t)
	c.mu.Unlock()
	t.fire(now)
	return active
}

func (t *fakeTimer) drain() {
	if t.ch == nil {
		return
	}
	select {
	case <-t.ch:
	default:
	}
}
