package wsclient

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// The doc: "A rotation that fails keeps the old connection and is retried
// after a backoff (or the venue's Retry-After)". The replacement's upgrade
// is refused with 429 and Retry-After: 7; the backoff would be 10 ms. The
// old connection stays live, and the next rotation dial comes at 7 s, not a
// nanosecond before.
func TestPeerRotationHonoursRetryAfter(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	p.answer = func(w io.Writer, n int, key string) bool {
		if n == 2 {
			_, _ = io.WriteString(w, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n")
			return false
		}
		_, err := io.WriteString(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+acceptKey(key)+"\r\n\r\n")
		return err == nil
	}
	opts := rotationOptions()
	opts.RotationOverlap = 10 * time.Millisecond
	opts.BackoffBase = 10 * time.Millisecond
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)

	due := newFakeClock().Now().Add(opts.MaxAge)
	require.Eventually(t, func() bool { return h.clock.armedAt(due) }, wait, time.Millisecond, "rotation armed")
	h.clock.advanceTo(due)
	failed := h.rec.waitFor(t, "failed rotation", func(ev Event) bool {
		return ev.State == schema.ConnConnected && ev.Reason == ReasonRotation && ev.Err != nil
	})
	require.EqualValues(t, 1, failed.ConnID)
	var he *HandshakeError
	require.ErrorAs(t, failed.Err, &he)
	require.Equal(t, http.StatusTooManyRequests, he.StatusCode)
	require.Equal(t, 7*time.Second, he.RetryAfter)

	retry := due.Add(7 * time.Second)
	require.Eventually(t, func() bool { return h.clock.armedAt(retry) }, wait, time.Millisecond, "retry armed at Retry-After; events %v", h.rec.all())
	h.clock.advanceTo(retry.Add(-time.Nanosecond))
	require.EqualValues(t, 2, p.n.Load(), "no rotation dial before Retry-After")
	h.clock.advanceTo(retry)
	require.Eventually(t, func() bool { return p.n.Load() == 3 }, wait, time.Millisecond)
	h.advanceUntil(5*time.Millisecond, "rotation", func() bool { return h.c.Stats().Rotations == 1 })
	h.sink.waitFor(t, `{"conn":3}`)
	require.Zero(t, h.c.Stats().TotalReconnects(), "the old connection was never lost")
	h.finish(nil, p.close)
}

// Close while the client waits out a backoff: Run returns nil at once (the
// wait is on the Clock, which does not move), the state is Closed, Write
// says ErrClosed, and nothing is left running.
func TestPeerCloseDuringBackoff(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	p.answer = func(w io.Writer, _ int, _ string) bool {
		_, _ = io.WriteString(w, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
		return false
	}
	opts := peerOptions()
	fc := newFakeClock()
	fc.blockSlp = true
	opts.Clock = fc
	opts.BackoffBase = time.Hour
	opts.BackoffCap = time.Hour
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.clock = fc
	h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.Eventually(t, func() bool { return len(fc.sleepingUntil()) == 1 }, wait, time.Millisecond)
	require.ErrorIs(t, h.c.Write(context.Background(), []byte("x")), ErrNotConnected)
	h.finish(nil, p.close)
	require.ErrorIs(t, h.c.Write(context.Background(), []byte("x")), ErrClosed)
	closed := h.rec.all()[len(h.rec.all())-1]
	require.Equal(t, schema.ConnClosed, closed.State)
	require.Equal(t, ReasonClosed, closed.Reason)
}

// Run's context ending while connected and while the handler waits on its
// context: the handler's context ends (the Handler doc: "a context that
// ends when the connection or Run ends"), Run returns ctx.Err(), every
// frame is back in the pool and nothing is left running.
func TestPeerRunContextEnds(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	entered := make(chan struct{})
	var handlerErr error
	k := &sink{hook: func(*schema.WsFrame) error { return nil }}
	opts := peerOptions()
	fc := newFakeClock()
	opts.Clock = fc
	opts.OnEvent = func(Event) {}
	c, err := New(p.url(), func(ctx context.Context, f *schema.WsFrame) error {
		_ = k.handle(ctx, f)
		close(entered)
		<-ctx.Done()
		handlerErr = ctx.Err()
		return nil
	}, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(ctx) }()
	recvWait(t, entered, "handler")
	cancel()
	require.ErrorIs(t, recvWait(t, runErr, "Run"), context.Canceled)
	require.ErrorIs(t, handlerErr, context.Canceled)
	require.Equal(t, schema.ConnClosed, c.State())
	require.Zero(t, c.frames.Stats().InUse)
	require.NoError(t, c.Close(context.Background()))
	p.close()
	goleak.VerifyNone(t, leaks)
}

// Retry-After is capped alike in both of its forms (RFC 9110 §10.2.3):
// delta-seconds are capped at a year, and so is an HTTP date (a proxy with
// a clock years ahead must not park the client for years).
func TestRetryAfterDateCapped(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour
	require.Equal(t, year, RetryAfter("99999999999", now))
	require.Equal(t, year, RetryAfter(now.Add(3*year).Format(http.TimeFormat), now))
	require.Equal(t, time.Hour, RetryAfter(now.Add(time.Hour).Format(http.TimeFormat), now))
}

// A venue that ends the connection right after the 101, before or while
// the subscriptions are written (an overloaded venue: 1013 try again
// later; or TCP closed): the subscription write fails, and the host sees
// the venue's code, or a read error, never a bare write error; the client
// reconnects and subscribes again.
func TestPeerEndsRightAfterHandshake(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(pc *peerConn)
		want Reason
	}{
		{"close 1013", func(pc *peerConn) { _ = pc.write(closeFrame(1013, "try again later")) }, ReasonPeerClosed},
		{"TCP closed", func(pc *peerConn) { _ = pc.c.Close() }, ReasonReadError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, firstPeer(true, func(pc *peerConn) {
				tc.end(pc)
				pc.hold()
			}))
			opts := peerOptions()
			opts.ControlRate = 1 // the second subscription is written a second (of the Clock) after the first
			h := start(t, p.url(), opts, &sink{}, leaks)
			lost := requireLost(t, h, tc.want)
			if tc.want == ReasonPeerClosed {
				require.Equal(t, websocket.StatusTryAgainLater, websocket.CloseStatus(lost.Err))
			}
			h.sink.waitFor(t, `{"conn":2}`)
			require.Zero(t, h.c.Stats().Reconnects[ReasonWriteError])
			h.finish(nil, p.close)
		})
	}
}

// clockAtConnected is a slog.Handler that, when the client logs a
// connection Connected (synchronously, as it announces it), records
// whether the ping and watchdog timers are armed on the fake clock.
type clockAtConnected struct {
	fc          *fakeClock
	ping, tick  time.Duration
	armed, seen atomic.Bool
}

func (h *clockAtConnected) Enabled(context.Context, slog.Level) bool { return true }
func (h *clockAtConnected) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *clockAtConnected) WithGroup(string) slog.Handler            { return h }
func (h *clockAtConnected) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "wsclient: "+schema.ConnConnected.String() && !h.seen.Swap(true) {
		now := h.fc.Now()
		h.armed.Store(h.fc.armedAt(now.Add(h.ping)) && h.fc.armedAt(now.Add(h.tick)))
	}
	return nil
}

// The Clock holds a connection's ping and watchdog timers when Connected
// is announced: a host (or test) that moves a fake clock as soon as it sees
// Connected fires them. They were armed after the announcement, so a move
// right after it could come before them and be lost to them.
func TestTimersArmedAtConnected(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	opts := peerOptions()
	opts.PingInterval = 100 * time.Millisecond
	opts.PongTimeout = 400 * time.Millisecond
	fc := newFakeClock()
	opts.Clock = fc
	lh := &clockAtConnected{fc: fc, ping: opts.PingInterval, tick: opts.PongTimeout / 8}
	opts.Logger = slog.New(lh)
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.clock = fc
	h.rec.waitFor(t, "connected", connected(1))
	require.True(t, lh.seen.Load())
	require.True(t, lh.armed.Load(), "ping and watchdog timers armed when Connected is announced")
	h.finish(nil, p.close)
}
