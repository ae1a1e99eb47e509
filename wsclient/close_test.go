package wsclient

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// closeCode is the status code of a close frame's payload, 1005 for none.
func closeCode(p []byte) uint16 {
	if len(p) < 2 {
		return 1005
	}
	return binary.BigEndian.Uint16(p)
}

// answeringPeer is steadyPeer that answers the client's close frame as RFC
// 6455 §5.5.1 says (echoing its code), then ends TCP (§7.1.1: the server
// closes first). It reports the client's close payload on closes.
func answeringPeer(closes chan<- []byte) func(pc *peerConn) {
	return func(pc *peerConn) {
		pc.readClient()
		if pc.expectSubs() != nil {
			return
		}
		_ = pc.write(text(fmt.Sprintf(`{"conn":%d}`, pc.n)))
		select {
		case p := <-pc.closes:
			closes <- p
			_ = pc.write(wsFrame(true, 0, opClose, p, 0))
			_ = pc.c.Close()
		case <-pc.gone:
			closes <- nil // cut without a close frame
		case <-pc.done:
		}
	}
}

// RFC 6455 §7.1.2: Close starts the close handshake with 1000, so that the
// venue sees a normal closure, not 1006. Against a venue that answers,
// Close returns on the answer: the fake clock never moves here, so the
// CloseTimeout bound cannot be what ended it.
func TestCloseSendsNormalClosure(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	closes := make(chan []byte, 4)
	p := newRawPeer(t, answeringPeer(closes))
	h := start(t, p.url(), peerOptions(), &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, h.c.Close(ctx))
	got := recvWait(t, closes, "the client's close frame")
	require.NotNil(t, got, "the client cut TCP without a close frame (the venue sees 1006)")
	require.EqualValues(t, websocket.StatusNormalClosure, closeCode(got))
	require.Len(t, got, 2, "no reason text")
	require.Zero(t, h.c.Stats().TotalReconnects())
	h.finish(nil, p.close)
	closed := h.rec.all()[len(h.rec.all())-1]
	require.Equal(t, schema.ConnClosed, closed.State)
	require.NoError(t, closed.Err, "Close is no error, as Run's nil says")
}

// The same through a coder/websocket server (httptest + Accept): its Read
// sees our 1000, not an abnormal closure.
func TestCloseNormalClosureSeenByCoderServer(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	seen := make(chan error, 1)
	v := newVenue(t, func(s *session) {
		if s.readN(len(testSubs)) != nil {
			return
		}
		_ = s.send(`{"hello":1}`)
		_, _, err := s.ws.Read(s.ctx)
		seen <- err
	})
	h := start(t, v.url(), quickOptions(), &sink{}, leaks)
	h.sink.waitFor(t, `{"hello":1}`)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, h.c.Close(ctx))
	err := recvWait(t, seen, "server read end")
	require.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err), "server saw %v", err)
	h.finish(v)
}

// A venue that never answers the close frame (and never ends TCP) holds
// Close for CloseTimeout on the Clock, no longer: then the socket is cut.
// Before the bound passes, Close has not returned (the handshake is still
// waiting, which is the point of sending it).
func TestCloseBoundedWhenPeerNeverAnswers(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer) // records the close frame, never answers
	opts := peerOptions()
	opts.CloseTimeout = 3 * time.Second
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	pc := p.conn(1)

	closeAtBound(t, h, pc)
	p.close()
	goleak.VerifyNone(t, leaks)
}

// closeAtBound closes h's client against pc, a venue connection that
// never answers the close frame: Close returns, and TCP is cut, when the
// clock reaches CloseTimeout, not before.
func closeAtBound(t *testing.T, h *harness, pc *peerConn) {
	t.Helper()
	closed := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	go func() { closed <- h.c.Close(ctx) }()
	got := recvWait(t, pc.closes, "the client's close frame")
	require.EqualValues(t, websocket.StatusNormalClosure, closeCode(got))
	due := h.clock.Now().Add(h.c.opts.CloseTimeout)
	require.Eventually(t, func() bool { return h.clock.armedAt(due) }, wait, time.Millisecond, "close bound armed")
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) before the venue answered or the bound passed", err)
	case <-pc.gone:
		t.Fatal("TCP cut before the bound")
	default:
	}
	h.clock.advance(h.c.opts.CloseTimeout)
	require.NoError(t, recvWait(t, closed, "Close"))
	recvWait(t, pc.gone, "TCP cut after the bound")
	require.NoError(t, recvWait(t, h.runErr, "Run"))
	require.Zero(t, h.frames.Stats().InUse)
}

// RFC 6455 §7.1.1: a client that has sent and received a close frame may
// end TCP itself. A venue that answers but keeps TCP open does not hold
// Close until the bound (the clock never moves here): coder/websocket's
// Conn.Close returns once the answer is in, whichever goroutine read it.
func TestCloseAnsweredButTCPKeptOpen(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	closes := make(chan []byte, 4)
	p := newRawPeer(t, func(pc *peerConn) {
		pc.readClient()
		if pc.expectSubs() != nil {
			return
		}
		_ = pc.write(text(`{"conn":1}`))
		select {
		case got := <-pc.closes:
			closes <- got
			_ = pc.write(wsFrame(true, 0, opClose, got, 0))
			pc.hold() // TCP stays open until the client ends it
		case <-pc.done:
		}
	})
	h := start(t, p.url(), peerOptions(), &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, h.c.Close(ctx))
	require.EqualValues(t, websocket.StatusNormalClosure, closeCode(recvWait(t, closes, "close frame")))
	recvWait(t, p.conn(1).gone, "the client ends TCP")
	h.finish(nil, p.close)
}

// Close's ctx bounds the handshake too: a host that cannot wait
// CloseTimeout (here it never passes: the clock does not move) gets Run
// back when its ctx ends.
func TestCloseContextBoundsHandshake(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer) // never answers the close frame
	h := start(t, p.url(), peerOptions(), &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	pc := p.conn(1)
	ctx, cancel := context.WithCancel(context.Background())
	closed := make(chan error, 1)
	go func() { closed <- h.c.Close(ctx) }()
	require.EqualValues(t, websocket.StatusNormalClosure, closeCode(recvWait(t, pc.closes, "the client's close frame")))
	cancel()
	require.NoError(t, recvWait(t, h.runErr, "Run, when Close's ctx ends"))
	recvWait(t, pc.gone, "TCP cut")
	err := recvWait(t, closed, "Close")
	require.True(t, err == nil || errors.Is(err, context.Canceled), "Close: %v", err)
	require.Zero(t, h.frames.Stats().InUse)
	p.close()
	goleak.VerifyNone(t, leaks)
}

// The end of Run's context closes as Close does.
func TestRunContextEndSendsNormalClosure(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	closes := make(chan []byte, 4)
	p := newRawPeer(t, answeringPeer(closes))
	opts := peerOptions()
	opts.Clock = newFakeClock()
	k := &sink{}
	c, err := New(p.url(), k.handle, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()
	k.waitFor(t, `{"conn":1}`) // subscribed
	cancel()
	require.ErrorIs(t, recvWait(t, ran, "Run"), context.Canceled)
	got := recvWait(t, closes, "the client's close frame")
	require.NotNil(t, got, "cut without a close frame")
	require.EqualValues(t, websocket.StatusNormalClosure, closeCode(got))
	p.close()
	goleak.VerifyNone(t, leaks)
}

// CloseTimeout < 0 keeps the old way: the socket is cut at once, no close
// frame (the venue sees 1006).
func TestCloseTimeoutNegativeCutsAtOnce(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	opts := peerOptions()
	opts.CloseTimeout = -1
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	pc := p.conn(1)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, h.c.Close(ctx)) // the clock never moves
	recvWait(t, pc.gone, "TCP cut")
	require.Empty(t, pc.closes, "no close frame")
	h.finish(nil, p.close)
}

// A rotation retires the old connection with a close handshake (1000), not
// a cut: the venue sees a normal closure of the connection it aged out.
func TestRotationRetiresOldWithNormalClosure(t *testing.T) {
	opts := peerOptions()
	opts.MaxAge = time.Hour
	opts.RotationOverlap = time.Second
	h, p, closes := startAnswering(t, opts)

	due := h.clock.Now().Add(opts.MaxAge)
	require.Eventually(t, func() bool { return h.clock.armedAt(due) }, wait, time.Millisecond, "rotation armed")
	h.clock.advanceTo(due)
	h.switchUnaligned(opts.RotationOverlap)

	got := recvWait(t, closes, "connection 1's close frame")
	require.NotNil(t, got, "connection 1 cut without a close frame (the venue sees 1006)")
	require.EqualValues(t, websocket.StatusNormalClosure, closeCode(got))
	h.rec.waitFor(t, "connected on 2 by rotation", func(ev Event) bool {
		return ev.State == schema.ConnConnected && ev.ConnID == 2 && ev.Reason == ReasonRotation
	})
	h.sink.waitFor(t, `{"conn":2}`)
	require.Zero(t, h.c.Stats().TotalReconnects())
	require.EqualValues(t, 1, h.c.Stats().Rotations)
	h.finish(nil, p.close)
}

// What the venue's close code says drives the redial: 1012/1013/1014 ask
// to come back later (at least TryAgainDelay), 1003/1007/1008/1010 refuse
// what we send (at least BackoffCap: no tight retry loop), the others get
// the plain backoff. The code and reason reach the host as the error of
// the Disconnected and Reconnecting events.
func TestPeerCloseCodeDrivesRedialDelay(t *testing.T) {
	const base = 100 * time.Millisecond
	for _, tc := range []struct {
		code  uint16
		least time.Duration
	}{
		{1000, 0}, {1001, 0}, {1011, 0}, {4000, 0},
		{1012, DefaultTryAgainDelay}, {1013, DefaultTryAgainDelay}, {1014, DefaultTryAgainDelay},
		{1003, DefaultBackoffCap}, {1007, DefaultBackoffCap}, {1008, DefaultBackoffCap}, {1010, DefaultBackoffCap},
		{1009, DefaultBackoffCap}, // the venue found our message too big: it will again
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			reason := fmt.Sprintf("venue says %d", tc.code)
			p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
				_ = pc.write(closeFrame(tc.code, reason))
				pc.hold()
			}))
			opts := peerOptions()
			opts.BackoffBase = base
			h := start(t, p.url(), opts, &sink{}, leaks)
			lost := conn1Lost(t, h)
			require.Equal(t, ReasonPeerClosed, lost.Reason)
			require.EqualValues(t, tc.code, websocket.CloseStatus(lost.Err))
			var ce websocket.CloseError
			require.ErrorAs(t, lost.Err, &ce)
			require.Equal(t, reason, ce.Reason)
			re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
			require.EqualValues(t, tc.code, websocket.CloseStatus(re.Err))
			if tc.least == 0 {
				require.LessOrEqual(t, re.Delay, base, "plain backoff")
			} else {
				require.GreaterOrEqual(t, re.Delay, tc.least)
				require.LessOrEqual(t, re.Delay, tc.least+tc.least/4, "jitter of at most a quarter")
			}
			h.rec.waitFor(t, "connected on 2", connected(2))
			h.finish(nil, p.close)
		})
	}
}

// A handshake refused with a 4xx status that is not permanent (400, 404,
// 426…) and carries no Retry-After is not redialled tightly either: the
// request will be refused again. 5xx and 408 get the plain backoff.
func TestHandshake4xxNotRetriedTightly(t *testing.T) {
	const base = 100 * time.Millisecond
	for _, tc := range []struct {
		status int
		least  time.Duration
	}{{400, DefaultBackoffCap}, {404, DefaultBackoffCap}, {426, DefaultBackoffCap}, {429, DefaultBackoffCap}, {408, 0}, {500, 0}, {503, 0}} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, steadyPeer)
			p.answer = func(w io.Writer, n int, key string) bool {
				if n == 1 {
					_, _ = fmt.Fprintf(w, "HTTP/1.1 %d Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", tc.status)
					return false
				}
				_, _ = io.WriteString(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+acceptKey(key)+"\r\n\r\n")
				return true
			}
			opts := peerOptions()
			opts.BackoffBase = base
			h := start(t, p.url(), opts, &sink{}, leaks)
			re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
			var he *HandshakeError
			require.ErrorAs(t, re.Err, &he)
			require.Equal(t, tc.status, he.StatusCode)
			if tc.least == 0 {
				require.LessOrEqual(t, re.Delay, base)
			} else {
				require.GreaterOrEqual(t, re.Delay, tc.least)
			}
			h.rec.waitFor(t, "connected", connected(1))
			h.finish(nil, p.close)
		})
	}
}

// Options.Subprotocols are offered in the handshake; a server that
// requires one gets it, and a server that picks one not offered fails the
// dial (coder/websocket checks it).
func TestSubprotocolsOffered(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	offered := make(chan string, 4)
	p := protocolPeer(t, offered, func(n int) string {
		if n == 1 {
			return "not-offered"
		}
		return "v2.venue"
	})
	opts := peerOptions()
	opts.Subprotocols = []string{"v2.venue", "v1.venue"}
	h := start(t, p.url(), opts, &sink{}, leaks)
	require.Equal(t, "v2.venue, v1.venue", strings.ReplaceAll(recvWait(t, offered, "handshake"), ",", ", "))
	lost := h.rec.waitFor(t, "dial refused", func(ev Event) bool { return ev.State == schema.ConnDisconnected })
	require.Equal(t, ReasonDial, lost.Reason)
	require.ErrorContains(t, lost.Err, "not-offered")
	h.rec.waitFor(t, "connected", connected(1))
	h.sink.waitFor(t, `{"conn":2}`)
	require.False(t, errors.Is(lost.Err, ErrPermanent))
	h.finish(nil, p.close)
}

// protocolPeer is a steadyPeer that sends the subprotocols each handshake
// offers (Sec-WebSocket-Protocol) to offered and picks pick(n) for
// connection n. A connection that picks one not offered is ended at once
// (coder/websocket reads a failed dial's body for up to 3 s).
func protocolPeer(t *testing.T, offered chan<- string, pick func(n int) string) *rawPeer {
	p := newRawPeer(t, steadyPeer)
	p.answerReq = func(w io.Writer, n int, key, proto string) bool {
		offered <- proto
		choice := pick(n)
		_, err := io.WriteString(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: "+choice+"\r\nSec-WebSocket-Accept: "+acceptKey(key)+"\r\n\r\n")
		return err == nil && strings.Contains(proto, choice)
	}
	return p
}

// startAnswering runs a client with opts against answeringPeer, once the
// first connection delivered; closes receives the client's close frames.
func startAnswering(t *testing.T, opts *Options) (*harness, *rawPeer, chan []byte) {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	closes := make(chan []byte, 4)
	p := newRawPeer(t, answeringPeer(closes))
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	return h, p, closes
}

// standbyQueued waits until a rotation's new connection has queued its
// first frame.
func (h *harness) standbyQueued() {
	h.t.Helper()
	require.Eventually(h.t, func() bool {
		h.c.deliverMu.Lock()
		defer h.c.deliverMu.Unlock()
		return h.c.ov != nil && h.c.ov.nb != nil
	}, wait, time.Millisecond)
}

// switchUnaligned completes a rotation under way whose streams never
// align (the frames name their connection): once the new connection's
// first frame is queued, the clock moves past the overlap bound.
func (h *harness) switchUnaligned(overlap time.Duration) {
	t := h.t
	t.Helper()
	h.standbyQueued()
	due := h.clock.Now().Add(overlap)
	require.Eventually(t, func() bool { return h.clock.armedAt(due) }, wait, time.Millisecond, "overlap bound armed")
	h.clock.advanceTo(due)
}

// RFC 6455 §9.1: a server that answers with an extension the client did
// not ask for (here permessage-deflate; the client asks for none) fails
// the dial, which is redialled like any failed dial; a server that
// behaves is then read in plain frames.
func TestUnaskedExtensionFailsDial(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	p.answerReq = func(w io.Writer, n int, key, _ string) bool {
		ext := ""
		if n == 1 {
			ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
		}
		_, _ = io.WriteString(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+ext+"Sec-WebSocket-Accept: "+acceptKey(key)+"\r\n\r\n")
		return n > 1 // the first is ended at once: coder/websocket reads a failed dial's body for up to 3 s
	}
	h := start(t, p.url(), peerOptions(), &sink{}, leaks)
	lost := h.rec.waitFor(t, "dial failed", isState(schema.ConnDisconnected))
	require.Equal(t, ReasonDial, lost.Reason)
	require.ErrorContains(t, lost.Err, "extensions")
	require.False(t, errors.Is(lost.Err, ErrPermanent))
	h.rec.waitFor(t, "connected", connected(1))
	h.sink.waitFor(t, `{"conn":2}`)
	h.finish(nil, p.close)
}

// Close frames venues send that the table above does not: no status at
// all (1005 to the host: the plain backoff), 1013 with a reason that is
// not UTF-8 (RFC 6455 §7.1.6 wants UTF-8; the code still sets the wait,
// and the reason reaches events and a JSON log as it came), and TCP ended
// without a close frame (1006, a read error: the plain backoff).
func TestPeerCloseOddFrames(t *testing.T) {
	const base = 100 * time.Millisecond
	for _, tc := range []struct {
		name   string
		fault  func(pc *peerConn)
		status websocket.StatusCode
		reason Reason
		least  time.Duration
	}{
		{"1005", func(pc *peerConn) { _ = pc.write(closeFrame(0, "")); pc.hold() }, websocket.StatusNoStatusRcvd, ReasonPeerClosed, 0},
		{"1013 not UTF-8", func(pc *peerConn) { _ = pc.write(closeFrame(1013, "busy \xff\xfe")); pc.hold() }, websocket.StatusTryAgainLater, ReasonPeerClosed, DefaultTryAgainDelay},
		{"1006", func(pc *peerConn) { _ = pc.c.Close() }, -1, ReasonReadError, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, faultyPeer(tc.fault))
			opts := peerOptions()
			opts.BackoffBase = base
			var logged strings.Builder
			var mu sync.Mutex
			opts.Logger = slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logged}, nil))
			h := start(t, p.url(), opts, &sink{}, leaks)
			lost := conn1Lost(t, h)
			require.Equal(t, tc.reason, lost.Reason, "err %v", lost.Err)
			require.Equal(t, tc.status, websocket.CloseStatus(lost.Err), "err %v", lost.Err)
			re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
			if tc.least == 0 {
				require.LessOrEqual(t, re.Delay, base, "plain backoff")
			} else {
				require.GreaterOrEqual(t, re.Delay, tc.least)
			}
			h.rec.waitFor(t, "connected on 2", connected(2))
			h.finish(nil, p.close)
			mu.Lock()
			defer mu.Unlock()
			require.Contains(t, logged.String(), `"state":"disconnected"`)
		})
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
