package book

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// OKXLimiter's doc: "give every OKXREST of a process one OKXLimiter".
// OKXRESTs with different Timeouts then reserve on one limiter with
// different longest waits. A slot one of them queued far ahead (its
// Timeout allows it) is no clock stepped back for another whose Timeout is
// short. Before, the short one read the long one's queue as a clock step,
// forgot every slot and sent at once: 3 requests inside 2 s against a
// limit of 2, and the queued fetches went on top of it.
func TestS31rvOKXLimiterSharedAcrossTimeouts(t *testing.T) {
	clock := newVClock()
	l := &OKXLimiter{Requests: 2, Per: 2 * time.Second, Clock: clock}
	long, short := time.Minute, time.Second
	var at []time.Duration
	for range 6 { // an OKXREST with a 1-minute Timeout: 6 fetches queued, 2 every 2 s
		d, ok := l.reserve(long)
		require.True(t, ok)
		at = append(at, d)
	}
	require.Equal(t, []time.Duration{0, 0, 2 * time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}, at)
	d, ok := l.reserve(short) // another OKXREST, Timeout 1 s, same instant
	require.False(t, ok, "the next free slot is 6 s away, past its 1 s: refused, not sent at once")
	require.Equal(t, 6*time.Second, d)
}

// A clock really stepped back is still told from a long queue: the step
// (an hour) is beyond any wait a reservation took.
func TestS31rvOKXLimiterStepBackAfterLongQueue(t *testing.T) {
	clock := newVClock()
	l := &OKXLimiter{Requests: 2, Per: 2 * time.Second, Clock: clock}
	for range 6 {
		_, ok := l.reserve(time.Minute)
		require.True(t, ok)
	}
	clock.advance(-time.Hour)
	d, ok := l.reserve(time.Second)
	require.True(t, ok)
	require.Zero(t, d)
}
