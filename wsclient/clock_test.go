package wsclient

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock is a Clock whose time moves only when told: by advance, or by
// Sleep, which (with autoSleep, the default) records the wait and moves the
// time on at once, so that backoff and pacing cost a test nothing. Due
// timers fire inside advance, in deadline order.
type fakeClock struct {
	mu        sync.Mutex
	now       time.Time
	timers    map[*fakeTimer]struct{} // armed
	sleeps    []time.Duration
	blockSlp  bool // Sleep waits for advance instead of moving time
	sleepWait []time.Time
}

type fakeTimer struct {
	clk  *fakeClock
	when time.Time
	ch   chan time.Time // nil for AfterFunc
	fn   func()
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1_700_000_000, 0), timers: map[*fakeTimer]struct{}{}}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	block := c.blockSlp
	c.mu.Unlock()
	if !block {
		c.advance(d)
		return ctx.Err()
	}
	t := c.NewTimer(d)
	defer t.Stop()
	c.mu.Lock()
	c.sleepWait = append(c.sleepWait, c.now.Add(d))
	c.mu.Unlock()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SleepUntil is Sleep to an instant (see sleepUntil): it moves time on
// to at (autoSleep) or waits for advance to reach it.
func (c *fakeClock) SleepUntil(ctx context.Context, at time.Time) error {
	c.mu.Lock()
	d := at.Sub(c.now)
	c.sleeps = append(c.sleeps, d)
	if !c.blockSlp || d <= 0 {
		c.mu.Unlock()
		c.advanceTo(at)
		return ctx.Err()
	}
	// Armed at the instant, under the lock that reads the time: a clock
	// moved meanwhile cannot push it later.
	t := &fakeTimer{clk: c, ch: make(chan time.Time, 1), when: at}
	c.timers[t] = struct{}{}
	c.sleepWait = append(c.sleepWait, at)
	c.mu.Unlock()
	defer t.Stop()
	select {
	case <-t.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{clk: c, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	t := &fakeTimer{clk: c, fn: f}
	t.Reset(d)
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	c := t.clk
	c.mu.Lock()
	defer c.mu.Unlock()
	_, armed := c.timers[t]
	delete(c.timers, t)
	t.drain()
	return armed
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	c := t.clk
	c.mu.Lock()
	_, armed := c.timers[t]
	t.drain()
	t.when = c.now.Add(d)
	c.timers[t] = struct{}{}
	c.mu.Unlock()
	if d <= 0 {
		c.advance(0)
	}
	return armed
}

func (t *fakeTimer) drain() {
	if t.ch != nil {
		select {
		case <-t.ch:
		default:
		}
	}
}

// advance moves time on by d and fires the timers that are due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for t := range c.timers {
		if !t.when.After(c.now) {
			due = append(due, t)
		}
	}
	slices.SortFunc(due, func(a, b *fakeTimer) int { return a.when.Compare(b.when) })
	var fns []func()
	for _, t := range due {
		delete(c.timers, t)
		if t.ch != nil {
			select {
			case t.ch <- c.now: // under the lock: Stop and Reset never see a stale value
			default:
			}
		} else {
			fns = append(fns, t.fn)
		}
	}
	c.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// advanceTo moves time on to at (never back).
func (c *fakeClock) advanceTo(at time.Time) {
	c.advance(max(0, at.Sub(c.Now())))
}

func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// sleepingUntil returns the deadlines of the blocking Sleeps begun so far.
func (c *fakeClock) sleepingUntil() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.sleepWait...)
}

// armedAt reports whether a timer is armed for exactly at.
func (c *fakeClock) armedAt(at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for t := range c.timers {
		if t.when.Equal(at) {
			return true
		}
	}
	return false
}

func TestFakeClock(t *testing.T) {
	c := newFakeClock()
	t0 := c.Now()
	tm := c.NewTimer(time.Second)
	fired := make(chan struct{})
	c.AfterFunc(2*time.Second, func() { close(fired) })
	c.advance(999 * time.Millisecond)
	select {
	case <-tm.C():
		t.Fatal("fired early")
	default:
	}
	c.advance(time.Millisecond)
	require.Equal(t, t0.Add(time.Second), <-tm.C())
	require.False(t, tm.Stop(), "already fired")
	require.False(t, tm.Reset(time.Second))
	require.True(t, tm.Reset(time.Second), "armed")
	c.advance(time.Second) // fires tm, and the AfterFunc
	<-fired
	require.True(t, tm.Reset(time.Second) == false)
	select {
	case <-tm.C():
		t.Fatal("stale value after Reset")
	default:
	}
	require.True(t, tm.Stop())
	require.NoError(t, c.Sleep(context.Background(), time.Minute))
	require.Equal(t, t0.Add(time.Minute+2*time.Second), c.Now())
	require.Equal(t, []time.Duration{time.Minute}, c.slept())
}

// The wall clock, without measuring it: timers fire, Stop and Reset say
// whether they were armed, Sleep ends with its context.
func TestRealClock(t *testing.T) {
	var c Clock = realClock{}
	require.NoError(t, c.Sleep(context.Background(), time.Nanosecond))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, c.Sleep(ctx, time.Hour), context.Canceled)
	require.ErrorIs(t, c.Sleep(ctx, 0), context.Canceled)
	tm := c.NewTimer(time.Nanosecond)
	<-tm.C()
	require.False(t, tm.Stop())
	require.False(t, tm.Reset(time.Hour))
	require.True(t, tm.Stop())
	done := make(chan struct{})
	af := c.AfterFunc(time.Nanosecond, func() { close(done) })
	<-done
	require.Nil(t, af.C())
	require.False(t, af.Stop())
	require.False(t, c.Now().IsZero())
}
