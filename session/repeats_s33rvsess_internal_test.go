package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/wsclient"
)

// lostClock is endClock whose AfterFunc timers say, when stopped, that
// they fired (Stop false), and never run their function: a host's clock
// outside wsclient.Timer's contract, or one whose firing goroutine is
// stuck in the host's code.
type lostClock struct{ *endClock }

type lostTimer struct{ wsclient.Timer }

func (lostTimer) Stop() bool { return false }

func (c lostClock) AfterFunc(d time.Duration, f func()) wsclient.Timer {
	return lostTimer{c.endClock.AfterFunc(d, func() {})}
}

// TestS33rvsessStopBoundedByCloseContext: Session.Close (repeats.stop)
// waits for a window's end that fired only as long as Close's ctx: a
// clock whose timer says it fired and whose callback never returns no
// longer holds Close for ever; stop returns, with an error naming the
// end not returned and wrapping ctx's. Before, stop waited unbounded and
// Close hung (a stall a bot cannot recover from).
func TestS33rvsessStopBoundedByCloseContext(t *testing.T) {
	r := &repeats{clk: lostClock{newEndClock()}}
	r.begin(1, 2)
	r.begin(2, 3) // the first end "fired": stop would wait for it
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.stop(ctx) }()
	cancel()
	select {
	case err := <-done:
		require.Error(t, err)
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(time.Minute):
		t.Fatal("stop still waits for an end that never returns, Close's ctx ended")
	}
}

// TestS33rvsessStopEndsWithCallbacksReturned: with a clock that keeps
// the contract, stop returns nil once every fired end returned, whatever
// Close's ctx (already ended here): the bound costs nothing then. The
// first window's end fired as a second rotation began (Stop false: stop
// must wait for it), and returned before stop.
func TestS33rvsessStopEndsWithCallbacksReturned(t *testing.T) {
	clk := &gateClock{endClock: newEndClock(), gate: make(chan struct{}), done: make(chan struct{})}
	r := &repeats{clk: clk}
	r.begin(1, 2)
	clk.fire()    // the first end fired; its callback waits for gate
	r.begin(2, 3) // too late to stop it: stop must wait for it
	close(clk.gate)
	<-clk.done // it returned
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, r.stop(ctx))
	require.NoError(t, r.stop(ctx), "twice")
}

// stopNow is stop with no bound but the callbacks' return (the tests'
// Cleanup).
func (r *repeats) stopNow() { _ = r.stop(context.Background()) }
