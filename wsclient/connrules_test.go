package wsclient

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// A refused upgrade's Retry-After is honoured: no redial before it, and
// the host sees the status and the wait (HandshakeError in the
// Reconnecting event, whose Delay is the wait). Binance answers 429 and
// 418 with Retry-After; 503 is the usual overload answer.
func TestRetryAfterHonoured(t *testing.T) {
	for _, code := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusTeapot} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			var dials atomic.Int32
			v := newVenue(t, func(s *session) { s.readForever(); <-s.ctx.Done() })
			inner := v.srv.Config.Handler
			v.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if dials.Add(1) == 1 {
					w.Header().Set("Retry-After", "7")
					w.WriteHeader(code)
					return
				}
				inner.ServeHTTP(w, r)
			})
			opts := quickOptions()
			opts.ControlRate = -1
			opts.Clock = newFakeClock()
			fc := opts.Clock.(*fakeClock)
			fc.blockSlp = true
			h := start(t, v.url(), opts, &sink{}, leaks)
			h.clock = fc

			re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
			require.Equal(t, 7*time.Second, re.Delay, "the wait is the venue's, not the backoff's")
			var he *HandshakeError
			require.ErrorAs(t, re.Err, &he)
			require.Equal(t, code, he.StatusCode)
			require.Equal(t, 7*time.Second, he.RetryAfter)
			require.Contains(t, he.Error(), "retry after 7s")

			var until time.Time
			require.Eventually(t, func() bool {
				s := fc.sleepingUntil()
				if len(s) == 1 {
					until = s[0]
				}
				return len(s) == 1
			}, wait, time.Millisecond)
			fc.advanceTo(until.Add(-time.Nanosecond))
			require.True(t, fc.armedAt(until), "still waiting a nanosecond before Retry-After")
			require.EqualValues(t, 1, dials.Load(), "no redial before Retry-After")
			fc.advanceTo(until)
			h.rec.waitFor(t, "connected", connected(1))
			require.EqualValues(t, 2, dials.Load())
			h.finish(v)
		})
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 5 ", 5 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"soon", 0},
		{"Sun, 29 Nov 2026 12:01:30 GMT", 90 * time.Second},
		{"Sun, 29 Nov 2026 11:59:00 GMT", 0},
		{"99999999999999", 365 * 24 * time.Hour},
	} {
		require.Equal(t, tc.want, RetryAfter(tc.v, now), "%q", tc.v)
	}
}

// A refused handshake leaves nothing running after Close: net/http keeps
// the refused response's connection alive in its transport, with a reader
// and a writer goroutine; the client closes it. The venue keeps its side
// open (as a real one does): the client's Close alone must close every
// connection, which the server sees, before anything else is torn down.
func TestRefusedHandshakeLeavesNothing(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	var refused, open atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		refused.Add(1)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("busy"))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	opts := quickOptions()
	fc := newFakeClock()
	fc.blockSlp = true // the client waits out Retry-After: its refused connection is idle
	opts.Clock = fc
	h := start(t, "ws"+strings.TrimPrefix(srv.URL, "http"), opts, &sink{}, leaks)
	h.clock = fc
	for i := 1; i <= 3; i++ {
		require.Eventually(t, func() bool { return len(fc.sleepingUntil()) == i }, wait, time.Millisecond)
		if i < 3 {
			fc.advance(time.Second)
		}
	}
	require.EqualValues(t, 3, refused.Load())
	h.finish(nil, func() {
		require.Eventually(t, func() bool { return open.Load() == 0 }, wait, time.Millisecond,
			"the client left %d connections open", open.Load())
	}, srv.Close)
}

// When the venue sends a close frame while a ping is outstanding, the ping
// fails at the same moment (the connection closes under it); the host
// still sees the venue's code and reason, every time.
func TestCloseFrameBeatsPingError(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	const rounds = 40
	pinged := make(chan int, rounds+8)
	var cur atomic.Int32
	aopts := &websocket.AcceptOptions{OnPingReceived: func(context.Context, []byte) bool {
		pinged <- int(cur.Load())
		return false // no pong: the ping stays outstanding
	}}
	v := newVenueAccept(t, aopts, func(s *session) {
		if s.n > rounds {
			steady(s)
			return
		}
		cur.Store(int32(s.n)) // before the client can ping: it pings after the subscriptions
		if s.readN(len(testSubs)) != nil {
			return
		}
		s.readForever()
		for {
			select {
			case n := <-pinged:
				if n == s.n {
					_ = s.ws.Close(websocket.StatusCode(4000+s.n), fmt.Sprintf("bye %d", s.n))
					return
				}
			case <-s.ctx.Done():
				return
			}
		}
	})
	opts := quickOptions()
	opts.ControlRate = -1
	h := start(t, v.url(), opts, &sink{}, leaks)
	for n := uint64(1); n <= rounds; n++ {
		h.rec.waitFor(t, "connected", connected(n))
		requireResubscribed(t, v, int(n))
		h.clock.advance(opts.PingInterval) // the ping the venue answers with a close frame
		lost := h.rec.waitFor(t, "disconnected", func(ev Event) bool {
			return ev.State == schema.ConnDisconnected && ev.ConnID == n
		})
		require.Equal(t, ReasonPeerClosed, lost.Reason, "connection %d: %v", n, lost.Err)
		require.Equal(t, websocket.StatusCode(4000+n), websocket.CloseStatus(lost.Err))
		require.ErrorContains(t, lost.Err, fmt.Sprintf("bye %d", n))
	}
	h.rec.waitFor(t, "connected", connected(rounds+1))
	h.finish(v)
}
