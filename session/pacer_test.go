package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/wsclient"
)

// stepClock is a clock that moves only when slept on: Sleep records the
// wait and moves the clock by it.
type stepClock struct {
	wsclient.Clock
	now   time.Time
	slept []time.Duration
}

func (c *stepClock) Now() time.Time { return c.now }

func (c *stepClock) Sleep(_ context.Context, d time.Duration) error {
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return nil
}

// The pacer keeps ControlRate between messages, and within OKX's budget
// of subscription requests: a burst of 40, then 440 an hour.
func TestPacer(t *testing.T) {
	clk := &stepClock{Clock: wsclient.SystemClock(), now: time.Unix(1000, 0)}
	p := newPacer(clk, 4, 0, 0)
	for range 3 {
		require.NoError(t, p.wait(context.Background()))
	}
	require.Equal(t, []time.Duration{250 * time.Millisecond, 250 * time.Millisecond}, clk.slept)

	okx := venues["okx"].budget
	clk = &stepClock{Clock: wsclient.SystemClock(), now: time.Unix(1000, 0)}
	p = newPacer(clk, 4, okx.rate, okx.burst)
	start := clk.now
	for range 40 + 44 {
		require.NoError(t, p.wait(context.Background()))
	}
	// The bucket of 40, then what it refills at 440 an hour: 84 requests
	// in 44/440 of an hour, 6 minutes.
	took := clk.now.Sub(start)
	require.InDelta(t, (44 * time.Hour / 440).Seconds(), took.Seconds(), 1)
	// Over any hour, at most 480 requests (OKX's limit) with the
	// connection's own subscriptions: 40 + 440.
	require.LessOrEqual(t, okx.burst+okx.rate*3600, 480.0)
}
