package book

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
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
		d, _, ok := l.reserve(nil, long)
		require.True(t, ok)
		at = append(at, d)
	}
	require.Equal(t, []time.Duration{0, 0, 2 * time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}, at)
	d, _, ok := l.reserve(nil, short) // another OKXREST, Timeout 1 s, same instant
	require.False(t, ok, "the next free slot is 6 s away, past its 1 s: refused, not sent at once")
	require.Equal(t, 6*time.Second, d)
}

// A clock really stepped back is still told from a long queue: the step
// (an hour) is beyond any wait a reservation took.
func TestS31rvOKXLimiterStepBackAfterLongQueue(t *testing.T) {
	clock := newVClock()
	l := &OKXLimiter{Requests: 2, Per: 2 * time.Second, Clock: clock}
	for range 6 {
		_, _, ok := l.reserve(nil, time.Minute)
		require.True(t, ok)
	}
	clock.advance(-time.Hour)
	d, _, ok := l.reserve(nil, time.Second)
	require.True(t, ok)
	require.Zero(t, d)
}

// holdClock is a clock whose Sleep waits until the test moves its time
// past the end of the sleep (advance), so that a fetch can be held
// queued in the limiter while another's answer comes.
type holdClock struct {
	vClock
	moved chan struct{} // closed and replaced at every advance
	slept chan struct{} // one send per Sleep that began waiting
}

func newHoldClock() *holdClock {
	return &holdClock{vClock: vClock{Clock: wsclient.SystemClock(), now: time.Unix(1_700_000_000, 0)}, moved: make(chan struct{}), slept: make(chan struct{}, 16)}
}

func (c *holdClock) Sleep(ctx context.Context, d time.Duration) error {
	end := c.Now().Add(d)
	c.slept <- struct{}{}
	for {
		c.mu.Lock()
		now, moved := c.now, c.moved
		c.mu.Unlock()
		if !now.Before(end) {
			return nil
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *holdClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	close(c.moved)
	c.moved = make(chan struct{})
	c.mu.Unlock()
}

// OKXLimiter's doc: after a 429 / 50011, "none for Per". A fetch that
// had reserved its slot before the refusal came and was waiting for it
// went at its slot, inside the pause: the venue that said "too many" got
// another request within the 2 s. It now checks the pause once its wait
// ends and sends nothing inside it (a *FetchError, Status 429, RetryAfter
// the rest of the pause, so that its book waits it out).
func TestS31rvOKXLimiterQueuedFetchHonoursThePause(t *testing.T) {
	clock := newHoldClock()
	first, answer := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var at []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		at = append(at, clock.Now())
		n := len(at)
		mu.Unlock()
		if n == 1 {
			close(first)
			<-answer
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(okxTooManyAnswer))
			return
		}
		_, _ = w.Write([]byte(okxBooksJSON(7, `["100","1","0","1"]`, `["101","1","0","1"]`)))
	}))
	t.Cleanup(srv.Close)
	rest := &OKXREST{BaseURL: srv.URL, Limiter: &OKXLimiter{Requests: 1, Per: 2 * time.Second, Clock: clock}}
	ctx := context.Background()
	start := clock.Now()

	errA := make(chan error, 1)
	go func() {
		var ev schema.CanonicalEvent
		errA <- rest.Fetch(ctx, "BTC-USDT", &ev)
	}()
	<-first // A is at the venue
	errB := make(chan error, 1)
	go func() {
		var ev schema.CanonicalEvent
		errB <- rest.Fetch(ctx, "ETH-USDT", &ev)
	}()
	<-clock.slept              // B queued for its slot, 2 s on
	clock.advance(time.Second) // A's answer comes 1 s after it went...
	close(answer)              // ...429: no request until 3 s
	require.Error(t, <-errA)
	clock.advance(time.Second) // B's slot (2 s) comes, inside the pause
	err := <-errB
	mu.Lock()
	got := append([]time.Time(nil), at...)
	mu.Unlock()
	for _, a := range got[1:] {
		require.False(t, a.Before(start.Add(3*time.Second)), "a request %v after start, inside the pause (until 3 s)", a.Sub(start))
	}
	var fe *FetchError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, http.StatusTooManyRequests, fe.Status)
	require.Equal(t, time.Second, fe.RetryAfter, "the rest of the pause")
}
