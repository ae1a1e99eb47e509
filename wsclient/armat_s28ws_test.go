package wsclient

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// movingClock is a Clock with only the documented minimum (no
// SleepUntil), as a host's fake clock may be (benbjohnson/clock's Mock
// has none): its time moves when the test says, and its Sleep blocks
// until then. moveOnArm makes the next Sleep or timer whose duration
// matches move the clock on first: another goroutine moved it between
// the caller's reading of the time and the arming.
type movingClock struct {
	fc    *fakeClock
	mu    sync.Mutex
	match func(time.Duration) bool
	by    time.Duration
	moved atomic.Bool
}

func newMovingClock() *movingClock {
	fc := newFakeClock()
	fc.blockSlp = true
	return &movingClock{fc: fc}
}

func (m *movingClock) moveOnArm(by time.Duration, match func(time.Duration) bool) {
	m.mu.Lock()
	m.match, m.by = match, by
	m.mu.Unlock()
}

func (m *movingClock) hook(d time.Duration) {
	m.mu.Lock()
	match, by := m.match, m.by
	if match == nil || !match(d) {
		m.mu.Unlock()
		return
	}
	m.match = nil
	m.mu.Unlock()
	m.fc.advance(by)
	m.moved.Store(true)
}

func (m *movingClock) Now() time.Time { return m.fc.Now() }

func (m *movingClock) Sleep(ctx context.Context, d time.Duration) error {
	m.hook(d)
	return m.fc.Sleep(ctx, d)
}

func (m *movingClock) NewTimer(d time.Duration) Timer {
	m.hook(d)
	return m.fc.NewTimer(d)
}

func (m *movingClock) AfterFunc(d time.Duration, f func()) Timer {
	m.hook(d)
	return m.fc.AfterFunc(d, f)
}

func anyWait(time.Duration) bool { return true }

// armed reports whether fc holds an armed timer.
func (c *fakeClock) armedAny() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers) > 0
}

// A sleep to an instant on a Clock without SleepUntil wakes when the
// clock reaches the instant, although the clock moved between the reading
// of the time left and the arming of the timer: the time left was slept
// from the moved time, and a clock moved exactly to the instant never
// woke it (the pacer's head stalled, every frame queued behind it too).
func TestS28SleepUntilClockMovedWhileArming(t *testing.T) {
	m := newMovingClock()
	at := m.Now().Add(time.Second)
	m.moveOnArm(300*time.Millisecond, anyWait)
	done := make(chan error, 1)
	go func() { done <- sleepUntil(context.Background(), m, at) }()
	require.Eventually(t, func() bool { return m.moved.Load() && m.fc.armedAny() }, wait, time.Millisecond)
	m.fc.advanceTo(at)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(wait):
		t.Fatalf("sleepUntil(%v) still asleep with the clock at %v", at, m.Now())
	}
}

// The pacer on such a clock: the second frame goes when the clock
// reaches a gap after the first, not later.
func TestS28PacerOnMinimalClockMovedWhileArming(t *testing.T) {
	m := newMovingClock()
	p := newPacer(&Options{ControlRate: 4, Clock: m})
	ctx := context.Background()
	require.NoError(t, p.take(ctx, false))
	t0 := m.Now()
	m.moveOnArm(100*time.Millisecond, anyWait)
	done := make(chan error, 1)
	go func() { done <- p.take(ctx, false) }()
	require.Eventually(t, func() bool { return m.moved.Load() && m.fc.armedAny() }, wait, time.Millisecond)
	m.fc.advanceTo(t0.Add(250 * time.Millisecond))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(wait):
		t.Fatalf("second frame not let go at a gap after the first; clock at %v", m.Now().Sub(t0))
	}
	require.Equal(t, t0.Add(250*time.Millisecond), p.last, "counted when its slot opened")
}

// A MaxAge rotation on a Clock without SleepUntil starts when the clock
// reaches the dial plus MaxAge, although the clock moved between the
// reading of the time left and the arming: the rotation was armed that
// much late, and a host's test that moved its clock to MaxAge waited for
// ever.
func TestS28MaxAgeOnMinimalClockMovedWhileArming(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newVenue(t, func(s *session) {
		for s.readN(1) == nil {
		}
	})
	m := newMovingClock()
	opts := quickOptions()
	opts.PingInterval = -1
	opts.Subscriptions = nil
	opts.MaxAge = time.Hour
	opts.Clock = m
	m.moveOnArm(time.Second, func(d time.Duration) bool { return d > 30*time.Minute })
	h := start(t, v.url(), opts, &sink{}, leaks)
	h.clock = m.fc
	t0 := m.Now()
	h.rec.waitFor(t, "connected", connected(1))
	require.Eventually(t, m.moved.Load, wait, time.Millisecond, "MaxAge timer not armed")
	m.fc.advanceTo(t0.Add(opts.MaxAge))
	h.rec.waitFor(t, "rotating at MaxAge", rotating(1))
	m.fc.blockSlp = false // let the close handshake's and backoff's waits pass
	h.finish(v)
}

// syncHandler calls on for every record, on the goroutine that logs:
// Options.Logger is called as the event is emitted, before OnEvent's
// queue.
type syncHandler struct{ on func(r slog.Record) }

func (h syncHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h syncHandler) Handle(_ context.Context, r slog.Record) error {
	h.on(r)
	return nil
}
func (h syncHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h syncHandler) WithGroup(string) slog.Handler      { return h }

// Every dial's timer (DialTimeout) is stopped when the dial ends, before
// Connected is announced: it stayed armed on the Clock while the
// connection was announced and served (until the dial function returned),
// a timer of a finished wait left on a host's fake clock.
func TestS28DialTimerStoppedAtConnected(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newVenue(t, func(s *session) {
		for s.readN(1) == nil {
		}
	})
	fc := newFakeClock()
	opts := quickOptions()
	opts.Clock = fc
	opts.DialTimeout = 7 * time.Second
	t0 := fc.Now()
	var checked, armed atomic.Int32
	connectedMsg := "wsclient: " + schema.ConnConnected.String()
	opts.Logger = slog.New(syncHandler{on: func(r slog.Record) {
		if r.Message != connectedMsg {
			return
		}
		checked.Add(1)
		if fc.armedAt(t0.Add(opts.DialTimeout)) {
			armed.Add(1)
		}
	}})
	h := start(t, v.url(), opts, &sink{}, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	require.Equal(t, int32(1), checked.Load())
	require.Zero(t, armed.Load(), "the dial's timer still armed when Connected was announced")
	h.finish(v)
}

// movingTimer is a timer of a steppedMovingClock: its Reset runs the
// clock's hook first.
type movingTimer struct {
	Timer
	m *movingClock
}

func (t movingTimer) Reset(d time.Duration) bool {
	t.m.hook(d)
	return t.Timer.Reset(d)
}

// steppedMovingClock is a steppedClock (Now behind its timers) whose
// timers, armed again by Reset, may see the clock move first (see
// movingClock).
type steppedMovingClock struct {
	*steppedClock
	m *movingClock
}

func (c *steppedMovingClock) AfterFunc(d time.Duration, f func()) Timer {
	return movingTimer{c.steppedClock.AfterFunc(d, f), c.m}
}

// The write's bound, armed again for the time a write has left (its firing
// found the write younger than WriteTimeout by Now), is armed for the
// instant the write's WriteTimeout ends, although the clock moved between
// the reading of the time left and the arming: armed for the time left
// from the moved clock, it fired that much late, and a host's test that
// moved its clock to the end of WriteTimeout saw the write still bounded
// by nothing.
func TestS28WriteBoundArmedAgainOnMovedClock(t *testing.T) {
	sc := &steppedClock{fakeClock: newFakeClock()}
	m := &movingClock{fc: sc.fakeClock}
	h, p, cn, wrote := startStuckWrite(t, &steppedMovingClock{steppedClock: sc, m: m}, sc.fakeClock)
	const step = time.Minute
	sc.back.Store(int64(step))
	m.moveOnArm(10*time.Second, func(d time.Duration) bool { return d == step })
	h.clock.advance(DefaultWriteTimeout) // fires; Now says 5 s - 1 min: armed again, the clock moves 10 s meanwhile
	require.True(t, m.moved.Load(), "the bound was not armed again")
	select {
	case <-cn.dead:
		t.Fatal("cut while Now said the write had time left")
	default:
	}
	h.clock.advance(step - 10*time.Second) // Now says WriteTimeout has passed
	err := recvWait(t, wrote, "the Write's return")
	require.ErrorIs(t, err, ErrMaybeSent)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	h.rec.waitFor(t, "connected on 2", connected(2))
	h.finish(nil, p.close)
}
