package wsclient

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A clock set back while a wait for an instant is armed (a host's fake
// clock reset by its test, or stepped on another goroutine): the timer
// counts from the earlier time it was armed at, so armed for the time
// left read before, it fires that much before the instant. armAt read the
// time again but took any clock not moved forward as unmoved. Failed
// before the fix: the timer fired 300ms before the instant.
func TestS28rvArmAtClockSetBack(t *testing.T) {
	m := newMovingClock()
	at := m.Now().Add(time.Second)
	m.moveOnArm(-300*time.Millisecond, anyWait)
	tm := armAt(m, nil, at)
	defer tm.Stop()
	require.True(t, m.moved.Load())

	m.fc.advanceTo(at.Add(-time.Millisecond))
	select {
	case fired := <-tm.C():
		t.Fatalf("fired with the clock %v before the instant", at.Sub(fired))
	default:
	}
	m.fc.advanceTo(at)
	select {
	case <-tm.C():
	default:
		t.Fatalf("not fired with the clock at the instant")
	}
}

// swingClock is a Clock whose readings swing around an instant: before
// it, after it, before it, ... (a host's clock stepped back and forth by
// two goroutines of its test). Its timers are a fakeClock's.
type swingClock struct {
	fc    *fakeClock
	at    time.Time
	reads atomic.Int64
}

func (s *swingClock) Now() time.Time {
	if s.reads.Add(1)%2 == 1 {
		return s.at.Add(-time.Millisecond)
	}
	return s.at.Add(time.Millisecond)
}
func (s *swingClock) Sleep(ctx context.Context, d time.Duration) error { return s.fc.Sleep(ctx, d) }
func (s *swingClock) NewTimer(d time.Duration) Timer                   { return s.fc.NewTimer(d) }
func (s *swingClock) AfterFunc(d time.Duration, f func()) Timer        { return s.fc.AfterFunc(d, f) }

// armAt's retries are bounded whatever the clock reads: a clock read past
// the instant after the last try sent it round again, and one read before
// it again at the next try had it loop for ever. Failed before the fix:
// armAt never returned (reads went on counting).
func TestS28rvArmAtBoundedOnSwingingClock(t *testing.T) {
	s := &swingClock{fc: newFakeClock(), at: time.Unix(1_700_000_000, 0)}
	done := make(chan Timer, 1)
	go func() { done <- armAt(s, nil, s.at) }()
	select {
	case tm := <-done:
		tm.Stop()
		require.LessOrEqual(t, s.reads.Load(), int64(2*armTries), "clock readings")
	case <-time.After(wait):
		t.Fatalf("armAt still arming after %d clock readings", s.reads.Load())
	}
}
