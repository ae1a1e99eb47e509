package session_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// laterClock is the system clock whose Now the test moves forward and
// whose Sleep returns at once, recording what it was asked.
type laterClock struct {
	wsclient.Clock
	mu    sync.Mutex
	ahead time.Duration
	asked []time.Duration
}

func (c *laterClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Clock.Now().Add(c.ahead)
}

func (c *laterClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.asked = append(c.asked, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *laterClock) advance(d time.Duration) { c.mu.Lock(); c.ahead += d; c.mu.Unlock() }

// since returns the sleeps asked from the n-th on.
func (c *laterClock) since(n int) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.asked[min(n, len(c.asked)):]...)
}

func (c *laterClock) count() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.asked) }

// TestS24rvStreamEndsBackoffStartsOver: when Binance keeps ending the
// user-data stream (eventStreamTerminated, binance/binance-connector-js
// #535), each new subscription waits longer (1 s, doubling, at most
// 30 s). A stream that then held for long ends anew on its own, not as
// part of that burst: its subscription is signed again at once, not
// after the burst's longest wait — during which the session hears no
// execution report and holds every order.
func TestS24rvStreamEndsBackoffStartsOver(t *testing.T) {
	v := startVenue(t)
	clk := &laterClock{Clock: wsclient.SystemClock()}
	opts := fastRedial
	opts.Clock = clk
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: opts})
	waitConnected(t, s)
	end := func() {
		t.Helper()
		n := len(v.UserDataSubscriptions())
		require.Equal(t, 1, v.TerminateUserData())
		require.Eventually(t, func() bool {
			subs := v.UserDataSubscriptions()
			return len(subs) > n && subs[len(subs)-1].Accepted
		}, generous, pollEvery, "subscribed again")
		waitConnected(t, s)
	}
	for range 4 { // a burst: 0, 1 s, 2 s, 4 s
		end()
	}
	require.Contains(t, clk.since(0), 4*time.Second, "the burst backs off")
	clk.advance(time.Hour) // the stream held an hour
	n := clk.count()
	end()
	for _, d := range clk.since(n) {
		require.Less(t, d, time.Second, "an end an hour after the last: signed again at once")
	}
}
