package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// firedClock is manualClock whose AfterFunc timers, never fired, say
// when stopped that they fired (Stop false): a host's Client.Clock
// outside wsclient.Timer's contract (manualClock itself said so before
// s33sess), or one whose firing goroutine is stuck in the host's code.
type firedClock struct{ *manualClock }

type firedTimer struct{ wsclient.Timer }

func (firedTimer) Stop() bool { return false }

func (c firedClock) AfterFunc(d time.Duration, f func()) wsclient.Timer {
	return firedTimer{c.manualClock.AfterFunc(d, f)}
}

// TestS33rvsessCloseAfterRotationBoundedByCtx: a private connection
// rotated (its repeats window begun, its end's timer armed on
// Client.Clock); on a clock whose timer says it fired but never runs its
// callback, Close returns once its ctx ends, with an error saying what it
// gave up waiting for, instead of hanging for ever. Before, Close waited
// for the callback with no bound: TestS29EveryOrderWaitEnds/okx hung so
// on the test clock s33sess fixed, and a host's clock could do the same.
func TestS33rvsessCloseAfterRotationBoundedByCtx(t *testing.T) {
	c := privateCases(t)[1]
	require.Equal(t, schema.VenueBybit, c.venue)
	f := newFakePrivate(t, c.venue, nil)
	now := &atomicTime{}
	now.set(time.Now())
	f.setServerClock(now.get)
	clk := newManualClock()
	cfg := c.config(f, now.get)
	cfg.Client.Clock, cfg.Client.MaxAge = firedClock{clk}, rotateAge
	seen := &rotationSeen{}
	cfg.OnState = seen.onState
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	s, err := session.Start(ctx, cfg)
	require.NoError(t, err)
	waitConnected(t, s)
	// Both connections' MaxAge armed before the clock fires them: wsclient
	// arms one after its Connected event, which WaitConnected may beat on a
	// loaded machine (as TestS30rvsessMarketRotationStaysConnected waits).
	require.Eventually(t, func() bool { return clk.ageTimers() >= 2 }, generous, pollEvery, "both connections' MaxAge armed")
	now.set(now.get().Add(3 * time.Second))
	clk.rotateUntil(t, func() bool { n, _ := seen.counts(); return n == 1 }, "the rotation switches")
	waitOrdersReady(t, s)

	cctx, ccancel := context.WithCancel(context.Background())
	ccancel() // the host gives Close no time
	closed := make(chan error, 1)
	go func() { closed <- s.Close(cctx) }()
	select {
	case err = <-closed:
	case <-time.After(generous):
		t.Fatal("Close hangs on a window's end that says it fired, its ctx ended")
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "rotation window")
}
