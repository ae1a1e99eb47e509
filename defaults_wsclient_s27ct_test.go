package meltica_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// DefaultControlRate (4 a second): "each begins at least 1/ControlRate
// (on the Clock) after the previous one". Three subscriptions sent on a
// new connection reach the venue at 0, 250 ms and 500 ms of the injected
// clock, read by the venue as each arrives; the clock moves only to the
// next timer the client armed, so a message sent early would show an
// earlier time.
func TestS27ctClientControlRateDefault(t *testing.T) {
	clk := newS27ctClock()
	inbox, url := newS27ctInbox(t, clk)
	subs := [][]byte{[]byte(`{"id":1}`), []byte(`{"id":2}`), []byte(`{"id":3}`)}
	c, err := wsclient.New(url, s27ctNop, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, Subscriptions: subs, CloseTimeout: -1, PingInterval: -1, IdleTimeout: -1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	got := inbox.count
	require.Eventually(t, func() bool { return got() >= 1 }, s27ctWait, time.Millisecond, "the first subscription")
	for k := 1; k < len(subs); k++ {
		var p []time.Duration
		require.Eventually(t, func() bool { p = clk.Pending(); return len(p) > 0 }, s27ctWait, time.Millisecond, "the client waits on the clock")
		assert.Equal(t, k, got(), "subscription %d not sent before its wait", k+1)
		clk.Advance(p[0])
		require.Eventually(t, func() bool { return got() >= k+1 }, s27ctWait, time.Millisecond, "subscription %d", k+1)
	}
	inbox.mu.Lock()
	at := inbox.at
	assert.Equal(t, time.Duration(0), at[0], "the first at once")
	for i := 1; i < len(at); i++ {
		assert.GreaterOrEqual(t, at[i]-at[i-1], 250*time.Millisecond, "1/4 s apart on the Clock: %v", at)
	}
	inbox.mu.Unlock()
	require.NoError(t, c.Close(context.Background()))
	require.NoError(t, <-done)
}

// The same pacing with pings and the watchdog on (their defaults): the
// clock then always holds the ping's and the watchdog's timers, so the
// test cannot wait for the client to arm its pacing wait; it moves the
// clock 1/ControlRate as soon as the venue has read a subscription, as
// time would pass, and the next one must go. A wait computed before such
// a move must still end at its instant (see s27ctClock.SleepUntil): one
// armed as a duration after the move landed a gap later, where the test
// never moves the clock, and the subscription did not go (an outside
// tester's report of this pacing test "with pings on" waiting 60 s).
func TestS27ctClientControlRatePinging(t *testing.T) {
	clk := newS27ctClock()
	t0 := clk.Now()
	arrived := make(chan time.Duration, 8) // the Clock's time at each receipt
	url := s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
				return
			}
			arrived <- clk.Now().Sub(t0)
		}
	})
	subs := [][]byte{[]byte(`{"id":1}`), []byte(`{"id":2}`), []byte(`{"id":3}`), []byte(`{"id":4}`)}
	c, err := wsclient.New(url, s27ctNop, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, Subscriptions: subs, CloseTimeout: -1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	for k := range subs {
		select {
		case at := <-arrived:
			// The clock stands still from one receipt to the next move.
			assert.Equal(t, time.Duration(k)*250*time.Millisecond, at, "subscription %d at its slot on the Clock", k+1)
		case <-time.After(s27ctWait): // a failure guard only
			t.Fatalf("subscription %d never went; clock at %v, timers %v", k+1, clk.Now().Sub(t0), clk.Pending())
		}
		select {
		case at := <-arrived:
			t.Fatalf("subscription %d went at %v, before the clock moved 1/ControlRate", k+2, at)
		default:
		}
		clk.Advance(250 * time.Millisecond)
	}
	require.NoError(t, c.Close(context.Background()))
	require.NoError(t, <-done)
}

// DefaultCloseTimeout (1 s): Close sends a close frame and waits "for the
// venue's answer of at most Options.CloseTimeout (1 s) on the Clock",
// then cuts the socket. A venue that never reads (so never answers) holds
// Close until the injected clock has moved 1 s, not before, and not for
// ever.
func TestS27ctClientCloseTimeoutDefault(t *testing.T) {
	clk := newS27ctClock()
	t0 := clk.Now()
	release := make(chan struct{})
	url := s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		select { // reads nothing: the close frame is never answered
		case <-release:
		case <-r.Context().Done():
		}
	})
	evs := newS27ctEvents()
	c, err := wsclient.New(url, s27ctNop, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on, PingInterval: -1, IdleTimeout: -1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	evs.await(t, "connected", func(ev wsclient.Event) bool { return ev.State == schema.ConnConnected })
	// Connected is announced from within the dial, whose timeout
	// (DialTimeout, 10 s) may still be armed then: the clock moves to
	// Close's bound alone. Moved to the first timer due, it once went the
	// dial's 10 s before Close had armed its bound, and the venue's release
	// then ended Close at 10 s (2 runs in 200, two -race runs at once).
	closed := make(chan time.Duration, 1)
	go func() {
		assert.NoError(t, c.Close(context.Background()))
		closed <- clk.Now().Sub(t0)
	}()
	var p []time.Duration
	require.Eventually(t, func() bool { p = clk.Pending(); return len(p) > 0 && p[0] <= time.Second }, s27ctWait, time.Millisecond, "Close waits on the clock for the venue's answer")
	select {
	case took := <-closed:
		t.Fatalf("Close returned at %v of the clock, before its bound", took)
	default:
	}
	clk.Advance(p[0])
	var took time.Duration
	select {
	case took = <-closed:
	case <-time.After(s27ctWait):
		t.Fatalf("Close never returned; timers %v", clk.Pending())
	}
	close(release)
	assert.GreaterOrEqual(t, took, time.Second, "Close waited CloseTimeout for the venue's answer")
	assert.Less(t, took, 2*time.Second, "and no longer")
	require.NoError(t, <-done)
}

// DefaultWriteTimeout (5 s): a host's write "once begun ... is written to
// the end whatever ctx does, bounded by Options.WriteTimeout"; "A write
// still under way after WriteTimeout (a venue that reads nothing) ends
// the connection and returns ErrMaybeSent". A venue that reads nothing and
// a message larger than the socket buffers: Write returns ErrMaybeSent
// (not ErrNotSent) once the clock has moved 5 s, not before, the
// connection is lost with ReasonWriteError, and the client redials.
func TestS27ctClientWriteTimeoutDefault(t *testing.T) {
	clk := newS27ctClock()
	t0 := clk.Now()
	release := make(chan struct{})
	url := s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{})
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	evs := newS27ctEvents()
	c, err := wsclient.New(url, s27ctNop, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on, PingInterval: -1, IdleTimeout: -1, CloseTimeout: -1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	up := evs.await(t, "connected", func(ev wsclient.Event) bool { return ev.State == schema.ConnConnected })
	// The clock moves to the write's bound alone, and stands still until
	// Write returns: stepped from timer to timer (the dial's 10 s, still
	// armed at Connected; the redial's once the write was cut), it went on
	// while Write was returning, which read it at 15 s (2 runs in 140, two
	// -race runs at once).
	s27ctDialDone(t, clk)
	msg := bytes.Repeat([]byte("a"), 64<<20)
	type result struct {
		err error
		at  time.Duration
	}
	wrote := make(chan result, 1)
	go func() {
		err := c.Write(context.Background(), msg)
		wrote <- result{err, clk.Now().Sub(t0)}
	}()
	require.Eventually(t, func() bool { return slices.Contains(clk.Pending(), wsclient.DefaultWriteTimeout) }, s27ctWait, time.Millisecond, "the write's bound armed")
	select {
	case res := <-wrote:
		t.Fatalf("Write returned before the clock moved: %+v", res)
	default:
	}
	clk.Advance(wsclient.DefaultWriteTimeout)
	var res result
	select {
	case res = <-wrote:
	case <-time.After(s27ctWait):
		t.Fatalf("Write never returned; timers %v", clk.Pending())
	}
	assert.ErrorIs(t, res.err, wsclient.ErrMaybeSent, "a write that began and was cut: %v", res.err)
	assert.NotErrorIs(t, res.err, wsclient.ErrNotSent)
	assert.GreaterOrEqual(t, res.at, 5*time.Second, "cut after WriteTimeout on the Clock, not before")
	assert.Less(t, res.at, 10*time.Second, fmt.Sprintf("and not much later: %v", res.at))
	lost := evs.await(t, "the connection lost", func(ev wsclient.Event) bool { return ev.State == schema.ConnDisconnected })
	assert.Equal(t, up.ConnID, lost.ConnID)
	assert.Equal(t, wsclient.ReasonWriteError, lost.Reason)
	require.NoError(t, c.Close(context.Background()))
	require.NoError(t, <-done)
}

// Close with a ctx already ended, against a venue that never answers the
// close frame: the close handshake lasts "at most Options.CloseTimeout
// ..., or until the ctx of the first Close ends, whichever comes first".
// So with the clock frozen, Close returns (nil, or the ctx's error) and Run
// returns too, without the clock moving; a second Close then waits for
// nothing.
func TestS27ctClientCloseWithEndedContext(t *testing.T) {
	clk := newS27ctClock()
	url := s27ctSilent(t)
	evs := newS27ctEvents()
	c, err := wsclient.New(url, s27ctNop, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on, PingInterval: -1, IdleTimeout: -1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	evs.await(t, "connected", func(ev wsclient.Event) bool { return ev.State == schema.ConnConnected })
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Close(ended); err != nil {
		assert.ErrorIs(t, err, context.Canceled)
	}
	select {
	case err := <-done:
		assert.NoError(t, err, "Run returns nil after Close")
	case <-time.After(s27ctWait):
		t.Fatalf("Run waited for the close handshake although Close's ctx had ended; pending timers %v", clk.Pending())
	}
	require.NoError(t, c.Close(context.Background()))
}
