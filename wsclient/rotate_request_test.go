package wsclient

import (
	"io"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// Rotate replaces the connection make-before-break on request, without
// MaxAge (a venue's serverShutdown or 64008 notice): ConnRotating, the new
// connection subscribed and live, the old one closed with 1000, no
// Disconnected event. A second request during the rotation counts once.
func TestRotateOnRequest(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	closes := make(chan []byte, 4)
	p := newRawPeer(t, answeringPeer(closes))
	opts := peerOptions()
	opts.RotationOverlap = time.Second
	h := start(t, p.url(), opts, &sink{}, leaks)
	require.ErrorIs(t, (&Client{life: h.c.life}).Rotate(), ErrNotConnected)
	h.sink.waitFor(t, `{"conn":1}`)

	require.NoError(t, h.c.Rotate())
	require.NoError(t, h.c.Rotate(), "twice")
	h.rec.waitFor(t, "rotating", isState(schema.ConnRotating))
	h.switchUnaligned(opts.RotationOverlap)
	h.rec.waitFor(t, "connected on 2 by rotation", func(ev Event) bool {
		return ev.State == schema.ConnConnected && ev.ConnID == 2 && ev.Reason == ReasonRotation
	})
	require.EqualValues(t, websocket.StatusNormalClosure, closeCode(recvWait(t, closes, "connection 1's close frame")))
	h.sink.waitFor(t, `{"conn":2}`)
	require.EqualValues(t, 1, h.c.Stats().Rotations)
	require.Zero(t, h.c.Stats().TotalReconnects())
	require.Zero(t, h.rec.count(isState(schema.ConnDisconnected)))
	h.finish(nil, p.close)
	require.ErrorIs(t, h.c.Rotate(), ErrClosed)
}

// A requested rotation that fails keeps the old connection and is tried
// again after a backoff, as a MaxAge rotation is.
func TestRotateOnRequestRetried(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	p.answer = func(w io.Writer, n int, key string) bool {
		if n == 2 { // the first rotation's dial is refused
			_, _ = io.WriteString(w, "HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			return false
		}
		_, _ = io.WriteString(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+acceptKey(key)+"\r\n\r\n")
		return true
	}
	opts := peerOptions()
	opts.RotationOverlap = time.Second
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	require.NoError(t, h.c.Rotate())
	failed := h.rec.waitFor(t, "rotation failed", func(ev Event) bool {
		return ev.State == schema.ConnConnected && ev.Reason == ReasonRotation && ev.Err != nil
	})
	require.EqualValues(t, 1, failed.ConnID, "the old connection is kept")
	h.advanceUntil(100*time.Millisecond, "retried and switched", func() bool {
		return h.rec.count(func(ev Event) bool {
			return ev.State == schema.ConnConnected && ev.ConnID == 2 && ev.Reason == ReasonRotation && ev.Err == nil
		}) > 0
	})
	h.sink.waitFor(t, `{"conn":3}`) // the venue's third connection, the client's second
	require.EqualValues(t, 1, h.c.Stats().Rotations)
	h.finish(nil, p.close)
}

// A rotation that goes live while the old connection's reader is still in
// a handler call it began lock-free (here the very call that asked for the
// rotation, as a session does on a venue's close notice) waits for that
// call to return before it delivers: the handler is never run twice at
// once (a parser's state raced under -race).
func TestRotateWaitsForHandlerInFlight(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	closes := make(chan []byte, 4)
	p := newRawPeer(t, answeringPeer(closes))
	opts := peerOptions()
	opts.RotationOverlap = time.Second
	var running, most atomic.Int32
	entered, release, ready := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var c *Client
	k := &sink{}
	k.hook = func(f *schema.WsFrame) error {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if string(f.Data) == `{"conn":1}` {
			<-ready
			if err := c.Rotate(); err != nil {
				return err
			}
			close(entered)
			<-release
		}
		return nil
	}
	h := start(t, p.url(), opts, k, leaks)
	c = h.c
	close(ready)
	<-entered
	h.c.mu.Lock()
	old := h.c.cur
	h.c.mu.Unlock()
	h.rec.waitFor(t, "rotating", isState(schema.ConnRotating))
	h.switchUnaligned(opts.RotationOverlap)
	require.Eventually(t, func() bool { // the switch waits for the call, or delivers beside it
		return old.handling.Load() == handlerAwaited || slices.Contains(k.got(), `{"conn":2}`)
	}, wait, time.Millisecond)
	close(release)
	h.sink.waitFor(t, `{"conn":2}`)
	require.EqualValues(t, 1, most.Load(), "one handler call at a time")
	h.finish(nil, p.close)
}
