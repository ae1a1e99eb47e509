package meltica_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s27ctServer is a venue on loopback: serve runs once per connection.
func s27ctServer(t *testing.T, serve func(w http.ResponseWriter, r *http.Request)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(serve))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// s27ctSendOnce is a venue that sends {"x":1} on each connection once
// send is closed, and otherwise only answers pings and the close.
func s27ctSendOnce(t *testing.T, send <-chan struct{}) string {
	return s27ctSendOncePing(t, send, nil)
}

// s27ctSendOncePing is s27ctSendOnce that, when ponged is not nil, then
// pings the client and sends Ping's result on ponged: the client answers
// from within its read, so a nil says its reader is back on the socket.
func s27ctSendOncePing(t *testing.T, send <-chan struct{}, ponged chan<- error) string {
	return s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		ctx := c.CloseRead(r.Context())
		select {
		case <-send:
		case <-ctx.Done():
			return
		}
		if err := c.Write(ctx, websocket.MessageText, []byte(`{"x":1}`)); err == nil && ponged != nil {
			ponged <- c.Ping(ctx)
		}
		<-ctx.Done()
	})
}

// s27ctInbox is a venue that records every message it receives, with the
// time of clk (when not nil) at its receipt, and the handshake's headers.
type s27ctInbox struct {
	mu     sync.Mutex
	msgs   []string
	at     []time.Duration
	header http.Header
}

func newS27ctInbox(t *testing.T, clk *s27ctClock) (*s27ctInbox, string) {
	in := &s27ctInbox{}
	var t0 time.Time
	if clk != nil {
		t0 = clk.Now()
	}
	url := s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
		in.mu.Lock()
		in.header = r.Header.Clone()
		in.mu.Unlock()
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		for {
			_, b, err := c.Read(r.Context())
			if err != nil {
				return
			}
			in.mu.Lock()
			in.msgs = append(in.msgs, string(b))
			if clk != nil {
				in.at = append(in.at, clk.Now().Sub(t0))
			}
			in.mu.Unlock()
		}
	})
	return in, url
}

func (in *s27ctInbox) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.msgs)
}

// s27ctEvents collects a client's events for the test to wait on.
type s27ctEvents struct {
	mu  sync.Mutex
	evs []wsclient.Event
	ch  chan struct{}
}

func newS27ctEvents() *s27ctEvents { return &s27ctEvents{ch: make(chan struct{}, 1)} }

func (e *s27ctEvents) on(ev wsclient.Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
	select {
	case e.ch <- struct{}{}:
	default:
	}
}

// await returns the first event (from index from) that ok accepts.
func (e *s27ctEvents) await(t *testing.T, what string, ok func(wsclient.Event) bool) wsclient.Event {
	t.Helper()
	deadline := time.After(s27ctWait)
	for {
		e.mu.Lock()
		for _, ev := range e.evs {
			if ok(ev) {
				e.mu.Unlock()
				return ev
			}
		}
		all := append([]wsclient.Event(nil), e.evs...)
		e.mu.Unlock()
		select {
		case <-e.ch:
		case <-deadline:
			t.Fatalf("never came: %s; events: %+v", what, all)
		}
	}
}

func s27ctNop(context.Context, *schema.WsFrame) error { return nil }

// A host's first mistakes with New: "The URL must be ws:// or wss://; h
// must not be nil", and a negative value "New refuses ... in every other
// field" than those that say negative disables them.
func TestS27ctClientNewRefusesMisconfiguration(t *testing.T) {
	_, err := wsclient.New("ws://127.0.0.1:1/", nil, nil)
	assert.Error(t, err, "a nil handler")
	for _, u := range []string{"http://127.0.0.1:1/", "127.0.0.1:1", "", "ftp://x/"} {
		_, err = wsclient.New(u, s27ctNop, nil)
		assert.Error(t, err, "URL %q", u)
	}
	for name, o := range map[string]*wsclient.Options{
		"DialTimeout":  {DialTimeout: -time.Second},
		"PongTimeout":  {PongTimeout: -time.Second},
		"BackoffBase":  {BackoffBase: -time.Second},
		"BackoffCap":   {BackoffCap: -time.Second},
		"ReadLimit":    {ReadLimit: -1},
		"WriteTimeout": {WriteTimeout: -time.Second},
		"EventBuffer":  {EventBuffer: -1},
		"MaxAge":       {MaxAge: -time.Second},
	} {
		_, err = wsclient.New("ws://127.0.0.1:1/", s27ctNop, o)
		assert.Error(t, err, "a negative %s", name)
	}
	c, err := wsclient.New("ws://127.0.0.1:1/", s27ctNop, &wsclient.Options{})
	require.NoError(t, err, "the zero Options are the defaults")
	require.NoError(t, c.Close(context.Background()))
	_, err = wsclient.New("ws://127.0.0.1:1/", s27ctNop, &wsclient.Options{Topics: []string{"a"}})
	assert.Error(t, err, "Topics without EncodeSubscribe: \"Required with Topics\"")
	_, err = wsclient.New("ws://127.0.0.1:1/", s27ctNop, &wsclient.Options{DataTimeout: time.Second})
	assert.Error(t, err, "DataTimeout without IsData: \"required with DataTimeout\"")
	for name, o := range map[string]*wsclient.Options{
		"a subscription not UTF-8":             {Subscriptions: [][]byte{{'"', 0xff, '"'}}},
		"a heartbeat not UTF-8":                {Heartbeat: []byte{0xc3}},
		"a header value with CR LF":            {HTTPHeader: http.Header{"X-Key": {"a\r\nX-Injected: 1"}}},
		"a header key net/http refuses":        {HTTPHeader: http.Header{"Bad Key": {"1"}}},
		"Sec-WebSocket-Extensions":             {HTTPHeader: http.Header{"Sec-Websocket-Extensions": {"permessage-deflate"}}},
		"an encoder that is not UTF-8":         {Topics: []string{"a"}, EncodeSubscribe: func(dst []byte, _ int, _ []string) []byte { return append(dst, 0xff) }},
		"an HTTP client skipping verification": {HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}},
	} {
		_, err = wsclient.New("wss://127.0.0.1:1/", s27ctNop, o)
		assert.Error(t, err, name)
	}
}

// Close before Run, Close twice, Run after Close: Close "is idempotent and
// safe to call before, during or after Run"; "ErrClosed is returned by Run
// and Write after Close"; Write's ErrClosed matches ErrNotSent; Rotate
// "returns ErrClosed after Close".
func TestS27ctClientUseAfterClose(t *testing.T) {
	ctx := context.Background()
	c, err := wsclient.New("ws://127.0.0.1:1/", s27ctNop, nil)
	require.NoError(t, err)
	require.NoError(t, c.Close(ctx))
	require.NoError(t, c.Close(ctx), "a second Close")
	err = c.Run(ctx)
	assert.ErrorIs(t, err, wsclient.ErrClosed, "Run after Close")
	err = c.Write(ctx, []byte("{}"))
	assert.ErrorIs(t, err, wsclient.ErrClosed)
	assert.ErrorIs(t, err, wsclient.ErrNotSent)
	err = c.WriteConn(ctx, 1, []byte("{}"))
	assert.ErrorIs(t, err, wsclient.ErrNotSent)
	assert.ErrorIs(t, c.Rotate(), wsclient.ErrClosed)
}

// Run with a context already cancelled "returns ... ctx.Err() when ctx
// ended"; every goroutine has stopped when it returns (goleak checks the
// package).
func TestS27ctClientRunWithCancelledContext(t *testing.T) {
	dialled := make(chan struct{}, 8)
	url := s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
		dialled <- struct{}{}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.CloseRead(r.Context())
		<-r.Context().Done()
	})
	c, err := wsclient.New(url, s27ctNop, &wsclient.Options{Venue: schema.VenueBinance})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = c.Run(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, wsclient.ErrPermanent)
	require.NoError(t, c.Close(context.Background()))
	assert.ErrorIs(t, c.Run(context.Background()), wsclient.ErrClosed, "Run after Close")
}

// Run twice "returns ErrRunning"; Write before a connection is up is
// ErrNotConnected and ErrNotSent; Rotate before one is up ErrNotConnected.
// Once connected: a Write whose ctx has ended "sends nothing" (ErrNotSent
// and the ctx's error), one that is not UTF-8 is ErrInvalidUTF8 and
// ErrNotSent with "the connection untouched", and the venue receives only
// the good message, on the same connection.
func TestS27ctClientWriteMisuse(t *testing.T) {
	inbox, url := newS27ctInbox(t, nil)
	clk := newS27ctClock()
	evs := newS27ctEvents()
	c, err := wsclient.New(url, s27ctNop, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on, CloseTimeout: -1})
	require.NoError(t, err)
	ctx := context.Background()
	err = c.Write(ctx, []byte(`{"early":1}`))
	assert.ErrorIs(t, err, wsclient.ErrNotConnected)
	assert.ErrorIs(t, err, wsclient.ErrNotSent)
	assert.ErrorIs(t, c.Rotate(), wsclient.ErrNotConnected)

	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	up := evs.await(t, "connected", func(ev wsclient.Event) bool { return ev.State == schema.ConnConnected })
	assert.ErrorIs(t, c.Run(ctx), wsclient.ErrRunning, "a second Run")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err = c.Write(cancelled, []byte(`{"cancelled":1}`))
	assert.ErrorIs(t, err, wsclient.ErrNotSent)
	assert.ErrorIs(t, err, context.Canceled)
	err = c.Write(ctx, []byte{'"', 0xff, '"'})
	assert.ErrorIs(t, err, wsclient.ErrInvalidUTF8)
	assert.ErrorIs(t, err, wsclient.ErrNotSent)
	assert.Contains(t, err.Error(), "UTF-8")
	err = c.WriteConn(ctx, up.ConnID+1, []byte(`{"other":1}`))
	assert.ErrorIs(t, err, wsclient.ErrConnChanged, "a connection that is not the current one")
	assert.ErrorIs(t, err, wsclient.ErrNotSent)
	require.NoError(t, c.WriteConn(ctx, up.ConnID, []byte(`{"good":1}`)))
	require.Eventually(t, func() bool { return inbox.count() >= 1 }, s27ctWait, time.Millisecond, "the good message")
	inbox.mu.Lock()
	assert.Equal(t, `{"good":1}`, inbox.msgs[0], "only the good message reached the venue, first")
	inbox.mu.Unlock()
	assert.Equal(t, up.ConnID, c.Stats().ConnID, "the same connection throughout")
	require.NoError(t, c.Close(ctx))
	require.NoError(t, <-done, "Run returns nil after Close")
	assert.ErrorIs(t, c.Write(ctx, []byte(`{}`)), wsclient.ErrClosed)
	assert.Equal(t, schema.ConnClosed, c.State(), "the state after Close")
}

// The documented floors under the wait before a redial, read from the
// Reconnecting event's Delay with the clock injected (it never moves, so
// the client waits for ever and Close ends the wait): 1012/1013/1014 "at
// least TryAgainDelay plus up to a quarter of it" (default 5 s); 1003,
// 1007, 1008, 1009, 1010 and a 4xx handshake other than 401, 403 and 408
// "for BackoffCap" (30 s) likewise; a 403 without Retry-After
// ForbiddenDelay (10 min); a Retry-After the venue's wait; 1000, 1001, 1011
// and 4000-4999 the plain backoff, whose first wait is at most
// BackoffBase (100 ms). A 401 is permanent: Run returns an error matching
// ErrPermanent and a *HandshakeError with the status.
func TestS27ctClientRedialFloorsAreTheDocumentedDefaults(t *testing.T) {
	type want struct{ min, max time.Duration }
	floor := func(d time.Duration) want { return want{d, d + d/4} }
	cases := map[string]struct {
		close  websocket.StatusCode
		status int
		header http.Header
		want   want
	}{
		"1012": {close: 1012, want: floor(wsclient.DefaultTryAgainDelay)},
		"1013": {close: websocket.StatusTryAgainLater, want: floor(5 * time.Second)},
		"1014": {close: 1014, want: floor(5 * time.Second)},
		"1003": {close: websocket.StatusUnsupportedData, want: floor(30 * time.Second)},
		"1007": {close: websocket.StatusInvalidFramePayloadData, want: floor(30 * time.Second)},
		"1008": {close: websocket.StatusPolicyViolation, want: floor(30 * time.Second)},
		"1009": {close: websocket.StatusMessageTooBig, want: floor(30 * time.Second)},
		"1010": {close: websocket.StatusMandatoryExtension, want: floor(30 * time.Second)},
		"1000": {close: websocket.StatusNormalClosure, want: want{0, 100 * time.Millisecond}},
		"1001": {close: websocket.StatusGoingAway, want: want{0, 100 * time.Millisecond}},
		"1011": {close: websocket.StatusInternalError, want: want{0, 100 * time.Millisecond}},
		"4001": {close: 4001, want: want{0, 100 * time.Millisecond}},
		"403":  {status: http.StatusForbidden, want: floor(10 * time.Minute)},
		"404":  {status: http.StatusNotFound, want: floor(30 * time.Second)},
		"429 Retry-After 7": {status: http.StatusTooManyRequests, header: http.Header{"Retry-After": {"7"}},
			want: want{7 * time.Second, 7*time.Second + 7*time.Second/4}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			url := s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.status != 0 {
					for k, v := range tc.header {
						w.Header()[k] = v
					}
					w.WriteHeader(tc.status)
					return
				}
				c, err := websocket.Accept(w, r, nil)
				if err != nil {
					return
				}
				_ = c.Close(tc.close, "s27ct")
			})
			clk := newS27ctClock()
			evs := newS27ctEvents()
			c, err := wsclient.New(url, s27ctNop, &wsclient.Options{Venue: schema.VenueOKX, Clock: clk, OnEvent: evs.on, CloseTimeout: -1})
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() { done <- c.Run(context.Background()) }()
			ev := evs.await(t, "a Reconnecting event", func(ev wsclient.Event) bool { return ev.State == schema.ConnReconnecting })
			assert.GreaterOrEqual(t, ev.Delay, tc.want.min, "the wait's floor: %+v", ev)
			assert.LessOrEqual(t, ev.Delay, tc.want.max, "the wait's ceiling (floor + a quarter): %+v", ev)
			assert.Equal(t, 1, ev.Attempt)
			if tc.status != 0 {
				var he *wsclient.HandshakeError
				if assert.ErrorAs(t, ev.Err, &he, "the Reconnecting event's error") {
					assert.Equal(t, tc.status, he.StatusCode)
					assert.NotErrorIs(t, ev.Err, wsclient.ErrPermanent)
					if tc.header != nil {
						assert.Equal(t, 7*time.Second, he.RetryAfter)
					}
				}
			} else {
				lost := evs.await(t, "a Disconnected event", func(ev wsclient.Event) bool { return ev.State == schema.ConnDisconnected })
				assert.Equal(t, wsclient.ReasonPeerClosed, lost.Reason)
				var ce websocket.CloseError
				if assert.ErrorAs(t, lost.Err, &ce, "the venue's close, typed: %v", lost.Err) {
					assert.Equal(t, tc.close, ce.Code)
					assert.Equal(t, "s27ct", ce.Reason)
				}
			}
			require.NoError(t, c.Close(context.Background()))
			require.NoError(t, <-done)
		})
	}
	t.Run("401", func(t *testing.T) {
		url := s27ctServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
		c, err := wsclient.New(url, s27ctNop, &wsclient.Options{Venue: schema.VenueOKX, Clock: newS27ctClock()})
		require.NoError(t, err)
		err = c.Run(context.Background())
		assert.ErrorIs(t, err, wsclient.ErrPermanent)
		var he *wsclient.HandshakeError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, 401, he.StatusCode)
		assert.Contains(t, err.Error(), "401", "the message names the status: %q", err.Error())
		require.NoError(t, c.Close(context.Background()))
	})
}

// The liveness defaults, on the injected clock: a venue that accepts and
// then sends nothing (and answers pings, as coder/websocket does while it
// reads) is declared dead at DefaultIdleTimeout (30 s) of the reader's
// wait, not before: after 29 s on the clock the venue's next message
// still arrives on the same connection; 30 s after it, the connection is
// lost with ReasonIdle and ErrIdle, and the event's At (on the Clock) is
// 59 s after the start: not at 29 s.
//
// The watchdog counts only the reader's waits on the socket: a tick in
// which it was still busy with the message (the handler has returned, the
// next read not begun) counts nothing, so a test that moved the clock as
// soon as the handler had the message saw the connection lost a tick or
// two late on a busy machine (67.5 s, 71.25 s; 5 runs in 200, two -race runs at
// once). The venue pings after its message, and the clock moves on only
// once the pong came: coder/websocket answers pings from within the read,
// so the reader is back waiting on the socket. Pings are no messages and
// restart no idle count.
func TestS27ctClientIdleTimeoutDefault(t *testing.T) {
	send := make(chan struct{})
	ponged := make(chan error, 1)
	url := s27ctSendOncePing(t, send, ponged)
	clk := newS27ctClock()
	t0 := clk.Now()
	evs := newS27ctEvents()
	got := make(chan uint64, 4)
	c, err := wsclient.New(url, func(_ context.Context, f *schema.WsFrame) error {
		got <- f.ConnID
		return nil
	}, &wsclient.Options{Venue: schema.VenueOKX, Clock: clk, OnEvent: evs.on, CloseTimeout: -1, PingInterval: -1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	up := evs.await(t, "connected", func(ev wsclient.Event) bool { return ev.State == schema.ConnConnected })
	s27ctAdvance(t, clk, 29*time.Second, nil)
	close(send)
	select {
	case id := <-got:
		assert.Equal(t, up.ConnID, id, "29 s of silence did not end the connection")
	case <-time.After(s27ctWait):
		t.Fatal("the venue's message never arrived")
	}
	select {
	case err := <-ponged:
		require.NoError(t, err, "the client answers the venue's ping")
	case <-time.After(s27ctWait):
		t.Fatal("the client's reader never read again")
	}
	s27ctAdvance(t, clk, 90*time.Second, func() bool {
		evs.mu.Lock()
		defer evs.mu.Unlock()
		for _, ev := range evs.evs {
			if ev.State == schema.ConnDisconnected {
				return true
			}
		}
		return false
	})
	lost := evs.await(t, "the idle connection lost", func(ev wsclient.Event) bool { return ev.State == schema.ConnDisconnected })
	assert.Equal(t, wsclient.ReasonIdle, lost.Reason)
	assert.ErrorIs(t, lost.Err, wsclient.ErrIdle)
	assert.GreaterOrEqual(t, lost.At.Sub(t0), 59*time.Second, "lost no sooner than 30 s after the last message, on the Clock")
	assert.LessOrEqual(t, lost.At.Sub(t0), 59*time.Second+30*time.Second/4, "lost soon after 30 s of silence")
	require.NoError(t, c.Close(context.Background()))
	require.NoError(t, <-done)
}

// s27ctAdvance moves clk by total, one due timer at a time, as a real
// clock would pass (each timer the client arms fires before the next
// step), and stops early once stop says so.
func s27ctAdvance(t *testing.T, clk *s27ctClock, total time.Duration, stop func() bool) {
	t.Helper()
	for total > 0 {
		var p []time.Duration
		require.Eventually(t, func() bool {
			if stop != nil && stop() {
				return true
			}
			p = clk.Pending()
			return len(p) > 0
		}, s27ctWait, time.Millisecond, "a timer armed")
		if len(p) == 0 {
			return // stop said so
		}
		d := min(max(p[0], time.Millisecond), total)
		clk.Advance(d)
		total -= d
	}
}

var _ = errors.Is
