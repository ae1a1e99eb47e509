package wsclient

import (
	"context"
	"fmt"
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
	opts := peerOptions()
	opts.RotationOverlap = time.Second
	h, p, closes := startAnswering(t, opts)
	require.ErrorIs(t, (&Client{life: h.c.life}).Rotate(), ErrNotConnected)

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
	p.answer = refuseDial(2, "503 Unavailable") // the first rotation's dial
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

// A rotation refused with 429 and Retry-After is retried at the venue's
// time, and requests made meanwhile (the venue's shutdown notice, sent
// again; a host that calls Rotate on every such notice or event) do not
// dial before it: a retry is already due, and Binance bans an IP that
// ignores its Retry-After (418). Each request dialled at once.
func TestRotateRequestsKeepRetryAfter(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	p.answer = refuseDial(2, "429 Too Many Requests\r\nRetry-After: 7")
	opts := peerOptions()
	opts.RotationOverlap = time.Second
	opts.BackoffBase = 10 * time.Millisecond
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	require.NoError(t, h.c.Rotate())
	h.rec.waitFor(t, "rotation failed", func(ev Event) bool {
		return ev.State == schema.ConnConnected && ev.Reason == ReasonRotation && ev.Err != nil
	})
	retry := h.clock.Now().Add(7 * time.Second)
	require.Eventually(t, func() bool { return h.clock.armedAt(retry) }, wait, time.Millisecond, "retry armed at Retry-After")
	for range 1000 {
		require.NoError(t, h.c.Rotate())
	}
	// The requests are taken (the channel drained) without a dial.
	require.Eventually(t, func() bool { return len(h.c.rotReq) == 0 }, wait, time.Millisecond,
		"requests not taken: a rotation dialled at once (venue connections: %d)", p.n.Load())
	require.NoError(t, h.c.Rotate()) // one more, after the last was taken
	require.Eventually(t, func() bool { return len(h.c.rotReq) == 0 }, wait, time.Millisecond)
	require.EqualValues(t, 2, p.n.Load(), "a request dialled before the venue's Retry-After")
	require.EqualValues(t, 1, h.rec.count(isState(schema.ConnRotating)))
	h.clock.advanceTo(retry)
	require.Eventually(t, func() bool { return p.n.Load() == 3 }, wait, time.Millisecond, "retried at Retry-After")
	h.switchUnaligned(opts.RotationOverlap)
	h.rec.waitFor(t, "switched", func(ev Event) bool {
		return ev.State == schema.ConnConnected && ev.ConnID == 2 && ev.Reason == ReasonRotation && ev.Err == nil
	})
	require.EqualValues(t, 1, h.c.Stats().Rotations)
	h.finish(nil, p.close)
}

// refuseDial answers the handshake of connection n with status (and the
// header lines after it), the others with 101.
func refuseDial(n int, status string) func(w io.Writer, k int, key string) bool {
	return func(w io.Writer, k int, key string) bool {
		if k == n {
			_, _ = io.WriteString(w, "HTTP/1.1 "+status+"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			return false
		}
		_, _ = io.WriteString(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+acceptKey(key)+"\r\n\r\n")
		return true
	}
}

// Close during a rotation ends it quietly: the events after Close are the
// new connection's and the old one's teardown and Closed, not a "failed
// rotation" (a Connected event carrying context.Canceled, logged at Warn)
// that tells the host the old connection is still up while it is being
// closed.
func TestCloseDuringRotationNoFailedRotation(t *testing.T) {
	opts := peerOptions()
	opts.RotationOverlap = time.Hour
	h, p, closes := startAnswering(t, opts)
	require.NoError(t, h.c.Rotate())
	h.standbyQueued()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, h.c.Close(ctx)) // the clock never moves: both answered
	require.EqualValues(t, websocket.StatusNormalClosure, closeCode(recvWait(t, closes, "a close frame")))
	require.EqualValues(t, websocket.StatusNormalClosure, closeCode(recvWait(t, closes, "the other close frame")))
	h.finish(nil, p.close)
	require.Zero(t, h.rec.count(func(ev Event) bool {
		return ev.State == schema.ConnConnected && ev.Err != nil
	}), "events: %v", h.rec.all())
}

// Rotations on request, one after another, each with a storm of requests
// made during it (from the handler as well), then Close: every venue
// connection the client opened ends (the server sees each socket closed),
// each was closed with 1000, and nothing is left running (goleak).
func TestRotateStormLeavesNoSocket(t *testing.T) {
	const rounds = 8
	opts := peerOptions()
	opts.RotationOverlap = time.Second
	// The old connections' close handshakes are bounded apart from the
	// overlap: at CloseTimeout's default (1 s, the overlap's length) the
	// last round's old connection, still closing when the next rotation's
	// first frame came, had a timer armed at the very instant
	// switchUnaligned waits for; the clock moved there before the rotation
	// had armed its bound, which then fell a second later, where the clock
	// never went: no switch (1 run in 300, two runs at once).
	opts.CloseTimeout = time.Hour
	var cl atomic.Pointer[Client]
	k := &sink{}
	k.hook = func(*schema.WsFrame) error {
		if c := cl.Load(); c != nil {
			_ = c.Rotate()
		}
		return nil
	}
	leaks := goleak.IgnoreCurrent()
	closes := make(chan []byte, 2*rounds+4)
	p := newRawPeer(t, answeringPeer(closes))
	h := start(t, p.url(), opts, k, leaks)
	cl.Store(h.c)
	k.waitFor(t, `{"conn":1}`)
	for i := range rounds {
		for range 100 {
			require.NoError(t, h.c.Rotate())
		}
		h.switchUnaligned(opts.RotationOverlap)
		h.rec.waitFor(t, "switched", func(ev Event) bool {
			return ev.State == schema.ConnConnected && ev.ConnID == uint64(i+2) && ev.Reason == ReasonRotation && ev.Err == nil
		})
		require.EqualValues(t, websocket.StatusNormalClosure, closeCode(recvWait(t, closes, "the old connection's close frame")))
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, h.c.Close(ctx))
	require.EqualValues(t, websocket.StatusNormalClosure, closeCode(recvWait(t, closes, "the last connection's close frame")))
	// The connections the rounds switched to; one more, dialled by a
	// request from the handler, may have been given up by Close within
	// its handshake (goleak and the frame count below cover it).
	for n := 1; n <= rounds+1; n++ {
		recvWait(t, p.conn(n).gone, fmt.Sprintf("connection %d closed", n))
	}
	require.GreaterOrEqual(t, h.c.Stats().Rotations, uint64(rounds))
	h.finish(nil, p.close)
}

// A Rotate request still pending when Close is called does not start a
// rotation: no Rotating event, no dial, after Close. Here serve is held
// in the handler, which goLive calls on the new connection's queued
// frame, while the request and Close come; once it is free both are
// ready, and it picked either at random. (It was held in the old
// connection's close handshake, which now runs beside it: see
// TestLossDuringOldCloseHandshakeReported.) Repeated, so that the old way
// fails nearly always (2⁻¹² of passing).
func TestRotateRequestPendingAtClose(t *testing.T) {
	for i := range 12 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, steadyPeer)
			opts := peerOptions()
			opts.RotationOverlap = time.Second
			in, release := make(chan struct{}), make(chan struct{})
			k := &sink{hook: func(f *schema.WsFrame) error {
				if string(f.Data) == `{"conn":2}` {
					close(in)
					<-release
				}
				return nil
			}}
			h := start(t, p.url(), opts, k, leaks)
			h.sink.waitFor(t, `{"conn":1}`)
			require.NoError(t, h.c.Rotate())
			h.switchUnaligned(opts.RotationOverlap)
			recvWait(t, in, "the switch's delivery of the queued frame")
			require.Eventually(t, func() bool { return h.live().id == 2 }, wait, time.Millisecond)
			require.NoError(t, h.c.Rotate()) // of connection 2, while serve is held
			closed := make(chan error, 1)
			go func() { closed <- h.c.Close(context.Background()) }()
			require.Eventually(t, func() bool { return h.c.life.Err() != nil }, wait, time.Millisecond)
			close(release)
			h.finish(nil, p.close) // moves the clock: the handshakes end
			require.NoError(t, recvWait(t, closed, "Close"))
			require.Equal(t, 1, h.rec.count(isState(schema.ConnRotating)), "events: %v", h.rec.all())
			require.EqualValues(t, 2, p.n.Load(), "no dial after Close")
		})
	}
}
