package session_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// frozenClock is the system clock but for Now, which stands still once
// frozen, and Sleep, which tells waits on the channel and then waits for
// ctx only.
type frozenClock struct {
	wsclient.Clock
	at     atomic.Int64 // Unix ns; 0: not frozen
	sleeps chan time.Duration
}

func (c *frozenClock) Now() time.Time {
	if ns := c.at.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return c.Clock.Now()
}

func (c *frozenClock) Sleep(ctx context.Context, d time.Duration) error {
	select {
	case c.sleeps <- d:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

// TestS27OKXOrderRateBeforeSending: OKX takes 60 order requests per 2 s
// per instrument ("WebSocket Place order": rate limit rule User ID +
// Instrument ID) and refuses more (50011). The session counts them
// before sending: with the clock standing still, the 61st waits 2 s for
// the span to allow it, unsent; its ctx ending meanwhile returns
// ErrNotSent, and the venue saw 60.
func TestS27OKXOrderRateBeforeSending(t *testing.T) {
	c := orderCases()[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, nil)
	clk := &frozenClock{Clock: wsclient.SystemClock(), sleeps: make(chan time.Duration, 1)}
	s := startOrders(t, c, f, func(cfg *session.Config) { cfg.Client.Clock = clk })
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	clk.at.Store(time.Now().UnixNano())
	for i := range 60 {
		_, err := place(t, s, ctx, "r"+strconv.Itoa(i))
		require.NoError(t, err)
	}
	require.Len(t, f.ordersSeen(), 60)
	short, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := place(t, s, short, "r60")
		done <- err
	}()
	select {
	case d := <-clk.sleeps:
		assert.Equal(t, 2*time.Second, d, "waits for the span")
	case err := <-done:
		require.FailNow(t, "the 61st within 2 s did not wait", "%v", err)
	}
	stop()
	require.ErrorIs(t, <-done, session.ErrNotSent)
	assert.Len(t, f.ordersSeen(), 60, "the 61st within 2 s was not sent")
}
