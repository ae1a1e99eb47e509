package meltica_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s27ctSilent is a venue that accepts and then neither reads nor writes
// (so answers no ping) until the test ends.
func s27ctSilent(t *testing.T) string {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
}

// s27ctRunUntilLost runs c until its first Disconnected event, moving clk
// one armed timer at a time, and returns that event and the clock time it
// took.
func s27ctRunUntilLost(t *testing.T, c *wsclient.Client, clk *s27ctClock, evs *s27ctEvents) (wsclient.Event, time.Duration) {
	t.Helper()
	t0 := clk.Now()
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	t.Cleanup(func() {
		assert.NoError(t, c.Close(context.Background()))
		assert.NoError(t, <-done)
	})
	evs.await(t, "connected", func(ev wsclient.Event) bool { return ev.State == schema.ConnConnected })
	lostYet := func() bool {
		evs.mu.Lock()
		defer evs.mu.Unlock()
		for _, ev := range evs.evs {
			if ev.State == schema.ConnDisconnected {
				return true
			}
		}
		return false
	}
	s27ctAdvance(t, clk, 10*time.Minute, lostYet)
	lost := evs.await(t, "the connection lost", func(ev wsclient.Event) bool { return ev.State == schema.ConnDisconnected })
	return lost, lost.At.Sub(t0)
}

// ErrPongTimeout with the defaults: a venue that answers no ping (it
// reads nothing) is lost at the first ping (DefaultPingInterval, 15 s)
// plus DefaultPongTimeout (10 s) of the injected clock — before the idle
// watchdog's 30 s — with ReasonPongTimeout.
func TestS27ctClientPongTimeoutDefault(t *testing.T) {
	clk := newS27ctClock()
	evs := newS27ctEvents()
	c, err := wsclient.New(s27ctSilent(t), s27ctNop, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on, CloseTimeout: -1})
	require.NoError(t, err)
	lost, took := s27ctRunUntilLost(t, c, clk, evs)
	assert.Equal(t, wsclient.ReasonPongTimeout, lost.Reason, "%+v", lost)
	assert.ErrorIs(t, lost.Err, wsclient.ErrPongTimeout)
	assert.GreaterOrEqual(t, took, 25*time.Second, "ping at 15 s, 10 s for its pong")
	assert.Less(t, took, 30*time.Second, "before the idle watchdog")
}

// ErrNoData: "with a DataTimeout under IdleTimeout, a connection on which
// nothing at all came ends so too", with ReasonNoData.
func TestS27ctClientNoData(t *testing.T) {
	clk := newS27ctClock()
	evs := newS27ctEvents()
	c, err := wsclient.New(s27ctSilent(t), s27ctNop, &wsclient.Options{Venue: schema.VenueOKX, Clock: clk, OnEvent: evs.on, CloseTimeout: -1,
		PingInterval: -1, DataTimeout: 5 * time.Second, IsData: func([]byte) bool { return true }})
	require.NoError(t, err)
	lost, took := s27ctRunUntilLost(t, c, clk, evs)
	assert.Equal(t, wsclient.ReasonNoData, lost.Reason, "%+v", lost)
	assert.ErrorIs(t, lost.Err, wsclient.ErrNoData)
	assert.GreaterOrEqual(t, took, 5*time.Second)
	assert.Less(t, took, 30*time.Second, "before the idle watchdog")
}

// ErrTooManyTopics: "returned by New when Options.Topics holds more than
// Options.MaxTopicsPerConn topics"; SplitTopics cuts them so that each
// part fits.
func TestS27ctClientTooManyTopics(t *testing.T) {
	topics := []string{"a", "b", "c", "d", "e"}
	enc := func(dst []byte, n int, topics []string) []byte {
		return append(dst, `{"subscribe":"`+strings.Join(topics, ",")+`"}`...)
	}
	_, err := wsclient.New("ws://127.0.0.1:1/", s27ctNop, &wsclient.Options{Topics: topics, EncodeSubscribe: enc, MaxTopicsPerConn: 2})
	assert.ErrorIs(t, err, wsclient.ErrTooManyTopics)
	parts := wsclient.SplitTopics(topics, 2)
	assert.Equal(t, [][]string{{"a", "b"}, {"c", "d"}, {"e"}}, parts)
	for _, p := range parts {
		c, err := wsclient.New("ws://127.0.0.1:1/", s27ctNop, &wsclient.Options{Topics: p, EncodeSubscribe: enc, MaxTopicsPerConn: 2})
		require.NoError(t, err)
		require.NoError(t, c.Close(context.Background()))
	}
}

// ErrFramesExhausted: two clients sharing a frame pool of one frame.
// "Each running connection's reader holds one frame for its life": the
// second reader waits, says so (ReasonPoolExhausted, an error matching
// ErrFramesExhausted and pool.ErrExhausted, Stats.PoolWaits) and keeps its
// connection; once the first client closes, the second reads its venue's
// message.
func TestS27ctClientSharedFramesExhausted(t *testing.T) {
	frames := pool.New("frames-s27ct", 1, func() *schema.WsFrame { return &schema.WsFrame{} }, nil)
	send := make(chan struct{})
	url := s27ctSendOnce(t, send)
	clk := newS27ctClock()
	ev1, ev2 := newS27ctEvents(), newS27ctEvents()
	got := make(chan struct{}, 4)
	h := func(context.Context, *schema.WsFrame) error { got <- struct{}{}; return nil }
	opts := func(evs *s27ctEvents) *wsclient.Options {
		return &wsclient.Options{Venue: schema.VenueBinance, Frames: frames, Clock: clk, OnEvent: evs.on, PingInterval: -1, IdleTimeout: -1, CloseTimeout: -1}
	}
	c1, err := wsclient.New(url, h, opts(ev1))
	require.NoError(t, err)
	c2, err := wsclient.New(url, h, opts(ev2))
	require.NoError(t, err)
	ctx := context.Background()
	done1, done2 := make(chan error, 1), make(chan error, 1)
	go func() { done1 <- c1.Run(ctx) }()
	ev1.await(t, "the first connected", func(ev wsclient.Event) bool { return ev.State == schema.ConnConnected })
	// Connected comes before the reader starts and takes its frame: the
	// second client starts once the first's reader holds the frame. Started
	// at Connected, the second's reader once took it first, and the first
	// waited instead (1 run in 200, two -race runs at once).
	require.Eventually(t, func() bool { return frames.Stats().InUse == 1 }, s27ctWait, time.Millisecond, "the first's reader holds the frame")
	go func() { done2 <- c2.Run(ctx) }()
	waits := ev2.await(t, "the second's reader waits for a frame", func(ev wsclient.Event) bool { return ev.Reason == wsclient.ReasonPoolExhausted })
	assert.ErrorIs(t, waits.Err, wsclient.ErrFramesExhausted)
	assert.ErrorIs(t, waits.Err, pool.ErrExhausted)
	assert.Positive(t, c2.Stats().PoolWaits)
	require.NoError(t, c1.Close(ctx))
	require.NoError(t, <-done1)
	close(send)
	select {
	case <-got:
	case <-time.After(s27ctWait):
		t.Fatal("the second client never read once the frame was free")
	}
	require.NoError(t, c2.Close(ctx))
	require.NoError(t, <-done2)
	require.NoError(t, frames.Shutdown(ctx))
}

// ErrInsecureRedirect: a wss:// venue whose handshake is redirected to
// ws:// is refused, "retried no sooner than Options.BackoffCap" (30 s) and
// "not permanent".
func TestS27ctClientInsecureRedirect(t *testing.T) {
	plain := s27ctSilent(t)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http"+strings.TrimPrefix(plain, "ws"), http.StatusFound)
	}))
	defer tlsSrv.Close()
	clk := newS27ctClock()
	evs := newS27ctEvents()
	c, err := wsclient.New("wss"+strings.TrimPrefix(tlsSrv.URL, "https"), s27ctNop, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on, HTTPClient: tlsSrv.Client()})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	ev := evs.await(t, "a Reconnecting event", func(ev wsclient.Event) bool { return ev.State == schema.ConnReconnecting })
	assert.ErrorIs(t, ev.Err, wsclient.ErrInsecureRedirect)
	assert.NotErrorIs(t, ev.Err, wsclient.ErrPermanent)
	assert.GreaterOrEqual(t, ev.Delay, wsclient.DefaultBackoffCap, "%+v", ev)
	require.NoError(t, c.Close(context.Background()))
	require.NoError(t, <-done)
}

// DefaultReadLimit (16 MiB, "a full-depth order-book snapshot fits"): a
// message of exactly 16 MiB is delivered whole; one byte more is an
// *OversizedError (Limit 16 MiB, matching websocket.ErrMessageTooBig),
// counted in Stats.Oversized, the message dropped and the connection
// kept: the message after it is delivered.
func TestS27ctClientReadLimitDefault(t *testing.T) {
	url := s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		ctx := c.CloseRead(r.Context())
		msg := make([]byte, wsclient.DefaultReadLimit+1)
		for i := range msg {
			msg[i] = 'a'
		}
		_ = c.Write(ctx, websocket.MessageText, msg[:wsclient.DefaultReadLimit])
		_ = c.Write(ctx, websocket.MessageText, msg)
		_ = c.Write(ctx, websocket.MessageText, []byte("after"))
		<-ctx.Done()
	})
	sizes := make(chan int, 4)
	clk := newS27ctClock()
	evs := newS27ctEvents()
	c, err := wsclient.New(url, func(_ context.Context, f *schema.WsFrame) error {
		sizes <- len(f.Data)
		return nil
	}, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on, PingInterval: -1, IdleTimeout: -1, CloseTimeout: -1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	t.Cleanup(func() {
		assert.NoError(t, c.Close(context.Background()))
		assert.NoError(t, <-done)
	})
	for i, want := range []int{16 << 20, len("after")} {
		select {
		case n := <-sizes:
			assert.Equal(t, want, n, "message %d: the one of exactly the limit, whole, then the one after the oversized", i)
		case <-time.After(s27ctWait):
			t.Fatalf("message %d not delivered", i)
		}
	}
	over := evs.await(t, "the oversized message reported", func(ev wsclient.Event) bool { return ev.Reason == wsclient.ReasonOversized })
	var oe *wsclient.OversizedError
	if assert.ErrorAs(t, over.Err, &oe) {
		assert.Equal(t, int64(16<<20), oe.Limit)
		assert.Equal(t, int64(16<<20+1), oe.Size)
	}
	assert.ErrorIs(t, over.Err, websocket.ErrMessageTooBig)
	assert.Equal(t, uint64(1), c.Stats().Oversized)
	assert.Zero(t, c.Stats().TotalReconnects(), "the connection kept")
	assert.Empty(t, sizes, "nothing of the oversized message delivered")
}
