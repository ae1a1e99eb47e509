package wsclient

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// steppedClock is a fakeClock whose Now can be stepped back while its
// timers keep their schedule: the wall clock an NTP step moves back,
// under timers that run on the monotonic clock.
type steppedClock struct {
	*fakeClock
	back atomic.Int64 // how far Now is behind the timers' time
}

func (c *steppedClock) Now() time.Time {
	return c.fakeClock.Now().Add(-time.Duration(c.back.Load()))
}

// The write's bound fires while Now says the write began less than
// WriteTimeout ago (a wall clock stepped back; a Now coarser than the
// timers): the bound was dropped for good — the firing took itself for a
// stale one — and a write the venue never reads was bounded by nothing,
// against WriteTimeout's doc. It must wait again for the time Now says is
// left.
func TestHostWriteTimeoutSurvivesClockStepBack(t *testing.T) {
	clk := &steppedClock{fakeClock: newFakeClock()}
	h, p, cn, wrote := startStuckWrite(t, clk, clk.fakeClock)
	const step = time.Minute
	clk.back.Store(int64(step))
	h.clock.advance(DefaultWriteTimeout) // the bound fires; Now says 5 s - 1 min have passed
	select {
	case err := <-wrote:
		t.Fatalf("the write ended before Now said WriteTimeout had passed: %v", err)
	default:
	}
	select { // the bound runs inside advance
	case <-cn.dead:
		t.Fatalf("cut while Now said the write had %v left", step)
	default:
	}
	h.clock.advance(step) // Now says WriteTimeout has passed
	err := recvWait(t, wrote, "the Write's return")
	require.ErrorIs(t, err, ErrMaybeSent)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	h.rec.waitFor(t, "connected on 2", connected(2))
	h.finish(nil, p.close)
}

// startStuckWrite runs a client on clk (fc its fake clock) against a
// venue that reads nothing, and begins a host Write that stays under way:
// the socket's buffers are full.
func startStuckWrite(t *testing.T, clk Clock, fc *fakeClock) (*harness, *rawPeer, *conn, chan error) {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, slowVenue(make(chan struct{}))) // never released
	deep := make(chan struct{})
	opts := peerOptions()
	opts.Subscriptions = nil
	opts.HTTPClient = smallBufferClient(1, deep)
	opts.Clock = clk
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.clock = fc
	h.rec.waitFor(t, "connected", connected(1))
	cn, err := h.c.current()
	require.NoError(t, err)
	wrote := make(chan error, 1)
	go func() { wrote <- h.c.Write(t.Context(), []byte(bigOrder)) }()
	recvWait(t, deep, "the write under way")
	return h, p, cn, wrote
}
