package wsclient

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// lateServeClock is a fake clock whose Now, read by the rotation loop
// (serve) once a failed rotation was announced, waits until the host has
// moved the clock on that announcement: the order a busy machine may give.
type lateServeClock struct {
	*fakeClock
	c        atomic.Pointer[Client]
	gate     atomic.Bool
	advanced chan struct{}
}

func (k *lateServeClock) Now() time.Time {
	if k.gate.Load() && k.c.Load().State() != schema.ConnRotating && calledFrom("(*Client).serve") {
		select {
		case <-k.advanced:
		case <-time.After(wait): // a failure guard
		}
	}
	return k.fakeClock.Now()
}

// calledFrom reports whether the caller of the caller's caller is fn.
func calledFrom(fn string) bool {
	pc := make([]uintptr, 1)
	if runtime.Callers(3, pc) == 0 {
		return false
	}
	f, _ := runtime.CallersFrames(pc).Next()
	return strings.HasSuffix(f.Function, fn)
}

// A failed rotation is announced (Connected on the old connection with the
// error) and retried after a backoff. A host's test that moves its fake
// clock by the backoff when it sees the announcement (OnEvent runs on a
// goroutine of its own) must get the retry, as for Reconnecting
// (announceWait): the retry's instant is to be read before the
// announcement. It was read after: a clock moved in between was moved for
// nothing, and the retry never came. TestS29rvRotationRetryArmedBeforeItsAnnouncement
// failed before (no second Prepare).
func TestS29rvRotationRetryArmedBeforeItsAnnouncement(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v, _ := privateVenue(t)
	clk := &lateServeClock{fakeClock: newFakeClock(), advanced: make(chan struct{})}
	var calls atomic.Int32
	second := make(chan struct{})
	errRefused := errors.New("login refused")
	opts := rotationOptions()
	opts.Subscriptions = nil
	opts.Clock = clk
	opts.BackoffBase, opts.BackoffCap = time.Second, time.Second
	opts.Rand = func(n int64) int64 { return n - 1 } // the whole backoff: 1 s
	opts.Prepare = func(context.Context, uint64, func(context.Context, []byte) error) error {
		if calls.Add(1) == 1 {
			clk.gate.Store(true)
			return errRefused
		}
		close(second)
		return nil
	}
	opts.OnEvent = func(ev Event) {
		if isRotationFailed(ev) {
			clk.advance(time.Second) // the backoff, as the host's test knows it
			close(clk.advanced)
		}
	}
	h := start(t, v.url(), opts, &sink{}, leaks)
	clk.c.Store(h.c)
	h.rec.waitFor(t, "connected", connected(1))
	require.NoError(t, h.c.Rotate())
	recvWait(t, second, "the retry after the backoff")
	h.rec.waitFor(t, "switched", func(ev Event) bool { return ev.State == schema.ConnConnected && ev.ConnID == 3 })
	h.finish(v)
}
