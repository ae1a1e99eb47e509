package venuesim_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// s29rvSetClock is a fake Options.Clock whose time is set, forward or
// back, like a wall clock stepped by NTP; every Set wakes every sleeper
// (a step is a wake-up, whichever way: a real timer measures its d on
// the monotonic clock, which a step does not move).
type s29rvSetClock struct {
	mu   sync.Mutex
	now  time.Time
	gen  int
	wake chan struct{}
	at   map[int]int // sleepers by the generation they began in
}

func newS29rvSetClock(at time.Time) *s29rvSetClock {
	return &s29rvSetClock{now: at, wake: make(chan struct{}), at: map[int]int{}}
}

func (c *s29rvSetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *s29rvSetClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	c.mu.Lock()
	wake, gen := c.wake, c.gen
	c.at[gen]++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.at[gen]--
		c.mu.Unlock()
	}()
	select {
	case <-wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// set sets the time and wakes every sleeper; then waits (a condition,
// with a failure guard) until one sleeps again: the generator has made
// what the new time asks.
func (c *s29rvSetClock) set(t *testing.T, at time.Time) {
	t.Helper()
	c.mu.Lock()
	c.now = at
	close(c.wake)
	c.wake = make(chan struct{})
	c.gen++
	gen := c.gen
	c.mu.Unlock()
	require.Eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.at[gen] > 0
	}, time.Minute, time.Millisecond, "the generator sleeps again")
}

// The generator on a clock stepped back (a fake Options.Clock, as a
// wall clock stepped by NTP) goes on at Rate from the new time; stepped
// forward, it makes at most 100 ms of messages at once (no burst for
// the hour). Before, a step back of an hour stalled it for the hour:
// what it had made counted against a due reckoned from a begin now in
// the future.
func TestS29rvGeneratorClockSteps(t *testing.T) {
	clk := newS29rvSetClock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 1000, Clock: clk, PingInterval: -1})
	defer v.Close()
	at := s29Epoch
	clk.set(t, at) // the generator has begun
	at = at.Add(100 * time.Millisecond)
	clk.set(t, at)
	require.EqualValues(t, 100, v.Stats().Messages, "100 ms at 1000 a second")

	at = at.Add(-time.Hour)
	clk.set(t, at)
	at = at.Add(50 * time.Millisecond)
	clk.set(t, at)
	assert.EqualValues(t, 150, v.Stats().Messages, "50 ms after a step back of an hour: 50 more, not a stall")

	at = at.Add(time.Hour)
	clk.set(t, at)
	assert.EqualValues(t, 250, v.Stats().Messages, "a step forward of an hour: at most 100 ms of messages at once")
	at = at.Add(10 * time.Millisecond)
	clk.set(t, at)
	assert.EqualValues(t, 260, v.Stats().Messages, "then on at the rate")
}
