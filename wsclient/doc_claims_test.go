package wsclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// The tests in this file hold the package documentation (go doc -all
// ./wsclient) to its concrete statements, against a real WebSocket server
// on loopback and through the public API only.

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") }

// events collects a client's events for a test.
type events struct {
	mu  sync.Mutex
	all []wsclient.Event
	ch  chan struct{}
}

func newEvents() *events { return &events{ch: make(chan struct{}, 1)} }

func (e *events) on(ev wsclient.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	select {
	case e.ch <- struct{}{}:
	default:
	}
}

func (e *events) waitFor(t *testing.T, what string, match func(wsclient.Event) bool) wsclient.Event {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		e.mu.Lock()
		for _, ev := range e.all {
			if match(ev) {
				e.mu.Unlock()
				return ev
			}
		}
		e.mu.Unlock()
		select {
		case <-e.ch:
		case <-deadline:
			t.Fatalf("no event: %s", what)
		}
	}
}

// "Text messages that are not UTF-8 are dropped and reported
// (ErrInvalidUTF8); other bad content is the handler's to refuse: its error
// is counted and reported, and the connection is kept. A message over
// Options.ReadLimit is read to its end and dropped: an *OversizedError,
// counted and reported, and the connection is kept (the message takes its
// Seq, as an invalid one does ...)." "Connection ids count from 1 in every
// frame, event, log line and Stats."
func TestDocBadMessages(t *testing.T) {
	var conns atomic.Int32
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		ctx := r.Context()
		if conns.Add(1) == 1 {
			_ = c.Write(ctx, websocket.MessageText, []byte("hello"))
			_ = c.Write(ctx, websocket.MessageText, []byte{0xff, 0xfe})
			_ = c.Write(ctx, websocket.MessageText, []byte("refuse me"))
			_ = c.Write(ctx, websocket.MessageBinary, make([]byte, 100))
			_ = c.Write(ctx, websocket.MessageText, []byte("after"))
		} else {
			_ = c.Write(ctx, websocket.MessageText, []byte("again"))
		}
		select {
		case <-done:
		case <-ctx.Done():
		}
	}))
	defer srv.Close()
	defer close(done)

	type got struct {
		conn, seq uint64
		data      string
	}
	frames := make(chan got, 16)
	ev := newEvents()
	c, err := wsclient.New(wsURL(srv), func(_ context.Context, f *schema.WsFrame) error {
		frames <- got{f.ConnID, f.Seq, string(f.Data)}
		if string(f.Data) == "refuse me" {
			return errors.New("not for me")
		}
		return nil
	}, &wsclient.Options{ReadLimit: 64, OnEvent: ev.on, PingInterval: -1, IdleTimeout: -1})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()

	var seen []got
	for len(seen) < 3 {
		select {
		case f := <-frames:
			seen = append(seen, f)
		case <-ctx.Done():
			t.Fatalf("frames: %+v", seen)
		}
	}
	assert.Equal(t, got{1, 1, "hello"}, seen[0], "ids count from 1")
	assert.Equal(t, "refuse me", seen[1].data, "the invalid text message was dropped, the connection kept")
	assert.Equal(t, uint64(1), seen[1].conn)
	assert.Equal(t, got{1, 5, "after"}, seen[2], "the oversized message (Seq 4) dropped, the connection kept")

	inv := ev.waitFor(t, "invalid UTF-8", func(e wsclient.Event) bool { return errors.Is(e.Err, wsclient.ErrInvalidUTF8) })
	assert.Equal(t, wsclient.ReasonInvalidFrame, inv.Reason)
	assert.Equal(t, uint64(1), inv.ConnID)
	herr := ev.waitFor(t, "handler error", func(e wsclient.Event) bool { return e.Reason == wsclient.ReasonHandlerError })
	assert.EqualError(t, herr.Err, "not for me")
	over := ev.waitFor(t, "oversized", func(e wsclient.Event) bool { var o *wsclient.OversizedError; return errors.As(e.Err, &o) })
	var oe *wsclient.OversizedError
	require.ErrorAs(t, over.Err, &oe)
	assert.Equal(t, int64(64), oe.Limit)
	assert.Equal(t, uint64(1), oe.ConnID)
	assert.ErrorIs(t, over.Err, websocket.ErrMessageTooBig)

	st := c.Stats()
	assert.Equal(t, uint64(1), st.InvalidFrames)
	assert.Equal(t, uint64(1), st.HandlerErrors)
	assert.Equal(t, uint64(1), st.Oversized)
	assert.Zero(t, st.TotalReconnects(), "the connection kept")
	assert.Equal(t, uint64(1), st.ConnID)
	assert.Equal(t, int64(100), oe.Size)

	require.NoError(t, c.Close(ctx))
	assert.NoError(t, <-ran, "Run returns nil after Close")
	first := ev.waitFor(t, "connecting", func(e wsclient.Event) bool { return e.State == schema.ConnConnecting })
	assert.Zero(t, first.ConnID, "no connection is concerned yet")
	closed := ev.waitFor(t, "closed", func(e wsclient.Event) bool { return e.State == schema.ConnClosed })
	assert.Zero(t, closed.ConnID)
	assert.Zero(t, c.Stats().ConnID, "none up")
}

// "A handshake refused with 401 [...] are permanent (ErrPermanent):
// Run reports them and returns." "A handshake refused with a Retry-After
// [...] is not redialled before it: the Reconnecting event's Delay is the
// venue's wait and its error a *HandshakeError with the status and
// RetryAfter."
func TestDocRefusedHandshakes(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
		c, err := wsclient.New(wsURL(srv), func(context.Context, *schema.WsFrame) error { return nil }, nil)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err = c.Run(ctx)
		cancel()
		assert.ErrorIs(t, err, wsclient.ErrPermanent, "%d", status)
		var he *wsclient.HandshakeError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, status, he.StatusCode)
		srv.Close()
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	ev := newEvents()
	c, err := wsclient.New(wsURL(srv), func(context.Context, *schema.WsFrame) error { return nil }, &wsclient.Options{OnEvent: ev.on})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()
	re := ev.waitFor(t, "reconnecting", func(e wsclient.Event) bool { return e.State == schema.ConnReconnecting })
	assert.Equal(t, 7*time.Second, re.Delay, "the venue's wait, not the backoff's")
	assert.Equal(t, 1, re.Attempt)
	var he *wsclient.HandshakeError
	require.ErrorAs(t, re.Err, &he)
	assert.Equal(t, http.StatusTooManyRequests, he.StatusCode)
	assert.Equal(t, 7*time.Second, he.RetryAfter)
	assert.NotErrorIs(t, re.Err, wsclient.ErrPermanent)
	require.NoError(t, c.Close(ctx))
	assert.NoError(t, <-ran)
}
