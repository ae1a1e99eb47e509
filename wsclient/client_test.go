package wsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

func nop(context.Context, *schema.WsFrame) error { return nil }

func TestNewRejects(t *testing.T) {
	insecureClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for _, tc := range []struct {
		name string
		url  string
		h    Handler
		opts *Options
		want error
	}{
		{"unparsable URL", "ws://bad host\x7f", nop, nil, ErrPermanent},
		{"http scheme", "http://example.com", nop, nil, ErrPermanent},
		{"no host", "ws://", nop, nil, ErrPermanent},
		{"nil handler", "ws://example.com", nil, nil, nil},
		{"topics without encoder", "ws://example.com", nop, &Options{Topics: []string{"a"}}, nil},
		{"too many topics", "ws://example.com", nop, &Options{Topics: []string{"a", "b", "c"}, MaxTopicsPerConn: 2, EncodeSubscribe: encodeTopics}, ErrTooManyTopics},
		{"insecure TLS", "wss://example.com", nop, &Options{HTTPClient: insecureClient}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.url, tc.h, tc.opts)
			require.Error(t, err)
			require.Nil(t, c)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			}
		})
	}
	_, err := New("wss://example.com", nop, &Options{HTTPClient: insecureClient, AllowInsecureTLS: true})
	require.NoError(t, err, "explicitly allowed")
}

// A refused handshake (401) or a certificate that fails verification
// stops Run; 503 is retried, and so is 403 (TestHandshake403IsRetried).
func TestPermanentDialErrors(t *testing.T) {
	for _, code := range []int{http.StatusUnauthorized} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(code)
			}))
			h := start(t, "ws"+strings.TrimPrefix(srv.URL, "http"), quickOptions(), &sink{}, leaks)
			var err error
			select {
			case err = <-h.runErr:
			case <-time.After(wait):
				t.Fatal("Run kept retrying")
			}
			h.runErr <- nil // for finish
			require.ErrorIs(t, err, ErrPermanent)
			var he *HandshakeError
			require.ErrorAs(t, err, &he)
			require.Equal(t, code, he.StatusCode)
			require.Contains(t, he.Error(), fmt.Sprint(code))
			ev := h.rec.waitFor(t, "disconnected", isState(schema.ConnDisconnected))
			require.Equal(t, ReasonPermanent, ev.Reason)
			require.Zero(t, h.rec.count(isState(schema.ConnReconnecting)))
			h.finish(nil, srv.Close)
		})
	}
	t.Run("untrusted certificate", func(t *testing.T) {
		leaks := goleak.IgnoreCurrent()
		srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		h := start(t, "wss"+strings.TrimPrefix(srv.URL, "https"), quickOptions(), &sink{}, leaks)
		err := <-h.runErr
		h.runErr <- nil
		require.ErrorIs(t, err, ErrPermanent)
		var ce *tls.CertificateVerificationError
		require.ErrorAs(t, err, &ce)
		h.finish(nil, srv.Close)
	})
}

// wss:// with the server's certificate trusted through a custom client.
func TestTLSWithCustomClient(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "k" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = ws.CloseNow() }()
		_ = ws.Write(r.Context(), websocket.MessageText, []byte("hello"))
		_, _, _ = ws.Read(r.Context()) // until the client goes
	}))
	opts := quickOptions()
	opts.Subscriptions = nil
	opts.HTTPClient = srv.Client()
	opts.HTTPHeader = http.Header{"X-Api-Key": []string{"k"}}
	h := start(t, "wss"+strings.TrimPrefix(srv.URL, "https"), opts, &sink{}, leaks)
	h.sink.waitFor(t, "hello")
	h.finish(nil, srv.Close, srv.Client().CloseIdleConnections)
}

// Backoff: capped exponential with full jitter, from the injected clock and
// random source, reset after a connection that lived long enough.
func TestBackoffSchedule(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	var mu sync.Mutex
	refuse := 5
	v := newVenue(t, func(s *session) {
		if s.readN(len(testSubs)) != nil {
			return
		}
		s.readForever()
		<-s.ctx.Done()
	})
	inner := v.srv.Config.Handler
	v.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		no := refuse > 0
		refuse--
		mu.Unlock()
		if no {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		inner.ServeHTTP(w, r)
	})
	opts := quickOptions()
	opts.BackoffBase = 100 * time.Millisecond
	opts.BackoffCap = 400 * time.Millisecond
	opts.BackoffReset = time.Minute
	opts.ControlRate = -1                            // only backoff sleeps in the fake clock
	opts.Rand = func(n int64) int64 { return n - 1 } // the top of the jitter range
	h := start(t, v.url(), opts, &sink{}, leaks)

	h.rec.waitFor(t, "connected", connected(1))
	ms := time.Millisecond
	require.Equal(t, []time.Duration{100 * ms, 200 * ms, 400 * ms, 400 * ms, 400 * ms}, h.clock.slept())
	var attempts []int
	for _, ev := range h.rec.all() {
		if ev.State == schema.ConnReconnecting {
			attempts = append(attempts, ev.Attempt)
			require.Equal(t, ReasonDial, ev.Reason)
			var he *HandshakeError
			require.ErrorAs(t, ev.Err, &he)
			require.Equal(t, 503, he.StatusCode)
			require.NotErrorIs(t, ev.Err, ErrPermanent)
		}
	}
	require.Equal(t, []int{1, 2, 3, 4, 5}, attempts)
	require.EqualValues(t, 5, h.c.Stats().Reconnects[ReasonDial])

	// A connection that lived past BackoffReset starts again from attempt 1.
	h.clock.advance(2 * time.Minute)
	requireResubscribed(t, v, 1)
	_ = v.session(1).ws.Close(websocket.StatusGoingAway, "")
	re := h.rec.waitFor(t, "reconnecting after a healthy connection", func(ev Event) bool {
		return ev.State == schema.ConnReconnecting && ev.ConnID == 1
	})
	require.Equal(t, 1, re.Attempt)
	require.Equal(t, 100*ms, re.Delay)
	h.rec.waitFor(t, "connected again", connected(2))
	h.finish(v)
}

func TestBackoffJitterBounds(t *testing.T) {
	c, err := New("ws://example.com", nop, &Options{Rand: func(n int64) int64 { return n - 1 }})
	require.NoError(t, err)
	prev := time.Duration(0)
	for a := 1; a < 200; a++ {
		d := c.backoff(a)
		require.GreaterOrEqual(t, d, prev)
		require.LessOrEqual(t, d, DefaultBackoffCap)
		prev = d
	}
	require.Equal(t, DefaultBackoffCap, prev)
	c.opts.Rand = func(int64) int64 { return 0 }
	require.Zero(t, c.backoff(7), "full jitter reaches 0")
	require.NoError(t, c.Close(context.Background()))
}

// Subscriptions and topic batches are sent in order on every connection,
// paced at ControlRate.
func TestSubscriptionsPacedAndSplit(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newVenue(t, func(s *session) {
		_ = s.readN(5)
		<-s.ctx.Done()
	})
	opts := quickOptions()
	opts.PingInterval = -1 // pings share the budget too (TestPingsAndHeartbeatsShareTheBudget): only subscriptions here
	opts.Topics = []string{"t1", "t2", "t3", "t4", "t5"}
	opts.EncodeSubscribe = encodeTopics
	opts.MaxTopicsPerMessage = 2
	opts.MaxTopicsPerConn = 5
	h := start(t, v.url(), opts, &sink{}, leaks)

	want := append(append([]string(nil), testSubs...), `1:t1,t2`, `2:t3,t4`, `3:t5`)
	require.Eventually(t, func() bool { return len(v.received(1)) == len(want) }, wait, time.Millisecond)
	require.Equal(t, want, v.received(1))
	gap := time.Second / 4
	require.Equal(t, []time.Duration{gap, gap, gap, gap}, h.clock.slept(), "4 per second")
	h.rec.waitFor(t, "connected", connected(1))
	h.finish(v)
}

func encodeTopics(dst []byte, n int, topics []string) []byte {
	return fmt.Appendf(dst, "%d:%s", n, strings.Join(topics, ","))
}

func TestSplitTopics(t *testing.T) {
	require.Nil(t, SplitTopics(nil, 3))
	require.Equal(t, [][]string{{"a", "b"}, {"c", "d"}, {"e"}}, SplitTopics([]string{"a", "b", "c", "d", "e"}, 2))
	require.Equal(t, [][]string{{"a", "b"}}, SplitTopics([]string{"a", "b"}, 0))
	parts := SplitTopics([]string{"a", "b", "c"}, 2)
	parts[0] = append(parts[0], "x")
	require.Equal(t, []string{"c"}, parts[1], "parts do not overwrite each other")
}

// Write is safe for concurrent use and fails cleanly with no connection.
func TestWriteConcurrent(t *testing.T) {
	h, v := startWriting(t, readingVenue)

	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				require.NoError(t, h.c.Write(context.Background(), fmt.Appendf(nil, "%d-%d", w, i)))
			}
		}()
	}
	wg.Wait()
	require.Eventually(t, func() bool { return len(v.received(1)) == writers*each }, wait, time.Millisecond)
	h.finish(v)
	require.ErrorIs(t, h.c.Write(context.Background(), []byte("x")), ErrClosed)
}

func TestWriteNotConnected(t *testing.T) {
	c, err := New("ws://127.0.0.1:1", nop, nil)
	require.NoError(t, err)
	require.ErrorIs(t, c.Write(context.Background(), []byte("x")), ErrNotConnected)
	require.NoError(t, c.Close(context.Background()))
}

// Run's lifecycle: once only, not after Close, ends with its context.
func TestRunLifecycle(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	c, err := New("ws://127.0.0.1:1", nop, nil)
	require.NoError(t, err)
	require.NoError(t, c.Close(context.Background()))
	require.ErrorIs(t, c.Run(context.Background()), ErrClosed)

	v := newVenue(t, func(s *session) { s.readForever(); <-s.ctx.Done() })
	opts := quickOptions()
	h := start(t, v.url(), opts, &sink{}, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	require.ErrorIs(t, h.c.Run(context.Background()), ErrRunning)
	h.finish(v)

	ctx, cancel := context.WithCancel(context.Background())
	c, err = New("ws://127.0.0.1:1", nop, &Options{Clock: newFakeClock()})
	require.NoError(t, err)
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	require.NoError(t, c.Close(context.Background()))
}

// Close gives up waiting when its context ends first (here: the handler
// is stuck), and succeeds once the handler returns.
func TestCloseTimeout(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newVenue(t, func(s *session) {
		_ = s.readN(len(testSubs))
		_ = s.send("x")
		<-s.ctx.Done()
	})
	release := make(chan struct{})
	entered := make(chan struct{})
	k := &sink{hook: func(*schema.WsFrame) error { close(entered); <-release; return nil }}
	h := start(t, v.url(), quickOptions(), k, leaks)
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, h.c.Close(ctx), context.DeadlineExceeded)
	close(release)
	h.finish(v)
}

// Events beyond the queue are dropped and counted, never block the reader.
func TestEventsDroppedNotBlocking(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newVenue(t, func(s *session) {
		_ = s.readN(len(testSubs))
		for i := 0; i < 50; i++ {
			_ = s.send("junk")
		}
		_ = s.send("end")
		<-s.ctx.Done()
	})
	gate := make(chan struct{})
	var got []Event
	var mu sync.Mutex
	opts := quickOptions()
	opts.EventBuffer = 4
	opts.OnEvent = func(ev Event) { <-gate; mu.Lock(); got = append(got, ev); mu.Unlock() }
	k := &sink{hook: func(f *schema.WsFrame) error {
		if string(f.Data) == "junk" {
			return errJunk
		}
		return nil
	}}
	h := start(t, v.url(), opts, k, leaks)
	k.waitFor(t, "end")
	st := h.c.Stats()
	require.EqualValues(t, 50, st.HandlerErrors)
	require.Positive(t, st.EventsDropped)
	close(gate)
	h.finish(v)
	var dropped uint64
	for _, ev := range got {
		dropped += ev.Dropped
	}
	require.Positive(t, dropped, "a delivered event says how many were lost before it")
}

func TestReasonAndErrors(t *testing.T) {
	require.Equal(t, "pong_timeout", ReasonPongTimeout.String())
	require.Equal(t, "Reason(200)", Reason(200).String())
	for r := range NumReasons {
		require.NotEmpty(t, Reason(r).String())
	}
	oe := &OversizedError{Limit: 10, ConnID: 3, Err: websocket.ErrMessageTooBig}
	require.Contains(t, oe.Error(), "10 bytes")
	require.ErrorIs(t, oe, websocket.ErrMessageTooBig)
	he := &HandshakeError{StatusCode: 503, Err: errors.New("x")}
	require.NotErrorIs(t, he, ErrPermanent)
}
