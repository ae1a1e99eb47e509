package wsclient

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// panicRT upgrades every handshake; connection 1's socket gives one
// message and then panics on the next read (a fault in the reading stack
// under the client: coder/websocket, or the host's transport), the others
// give one message naming the connection and then wait for Close.
type panicRT struct {
	mu sync.Mutex
	n  int
}

func (p *panicRT) RoundTrip(req *http.Request) (*http.Response, error) {
	p.mu.Lock()
	p.n++
	n := p.n
	p.mu.Unlock()
	resp, _ := upgradeRT{}.RoundTrip(req)
	body := &scriptedBody{closed: make(chan struct{})}
	if n == 1 {
		body.r = bytes.NewReader(text(`{"n":1}`))
		body.panics = true
	} else {
		body.r = bytes.NewReader(text(`{"conn":2}`))
	}
	resp.Body = body
	return resp, nil
}

type scriptedBody struct {
	r      io.Reader
	panics bool
	closed chan struct{}
	once   sync.Once
}

func (b *scriptedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		return n, nil
	}
	if b.panics {
		panic("index out of range [7] with length 7 (test)")
	}
	<-b.closed
	return 0, err
}

func (b *scriptedBody) Write(p []byte) (int, error) { return len(p), nil }

func (b *scriptedBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

// A panic raised while the reader reads a message (inside coder/websocket,
// on bytes the venue chose) does not end the host's program: it is the
// connection's read error (ReasonReadError, ErrReadPanic), the frame goes
// back to its pool, and the client redials.
func TestS27ReadPanicRecovered(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	opts := peerOptions()
	opts.HTTPClient = &http.Client{Transport: &panicRT{}}
	h := start(t, "ws://venue.test/ws", opts, &sink{}, leaks)
	lost := requireLost(t, h, ReasonReadError)
	require.ErrorIs(t, lost.Err, ErrReadPanic)
	require.ErrorContains(t, lost.Err, "index out of range")
	h.sink.waitFor(t, `{"n":1}`, `{"conn":2}`)
	h.finish(nil)
}

// closingBody gives one message, then blocks reads until the client
// writes its close frame; a read after that panics. Reads after the
// client's close frame are made by coder/websocket's Conn.Close, waiting
// for the venue's answer, when the reader is in the handler.
type closingBody struct {
	r       io.Reader
	closing chan struct{} // closed at the client's close frame
	closed  chan struct{}
	once    sync.Once
	conce   sync.Once
}

func (b *closingBody) Read(p []byte) (int, error) {
	if n, _ := b.r.Read(p); n > 0 {
		return n, nil
	}
	select {
	case <-b.closing:
		panic("index out of range [9] with length 9 (test, in the close handshake)")
	case <-b.closed:
		return 0, io.EOF
	}
}

func (b *closingBody) Write(p []byte) (int, error) {
	if len(p) >= 1 && p[0]&0x0f == opClose {
		b.conce.Do(func() { close(b.closing) })
	}
	return len(p), nil
}

func (b *closingBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

type closingRT struct{}

func (closingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, _ := upgradeRT{}.RoundTrip(req)
	resp.Body = &closingBody{r: bytes.NewReader(text(`{"n":1}`)), closing: make(chan struct{}), closed: make(chan struct{})}
	return resp, nil
}

// A panic while coder/websocket's Conn.Close reads the venue's answer to
// the client's close frame (it reads by itself while the reader is in the
// handler) does not end the host's program either: Close returns, nothing
// is left running.
func TestS27ClosePanicRecovered(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	inHandler := make(chan struct{})
	release := make(chan struct{})
	k := &sink{hook: func(*schema.WsFrame) error {
		close(inHandler)
		<-release
		return nil
	}}
	opts := peerOptions()
	opts.HTTPClient = &http.Client{Transport: closingRT{}}
	opts.CloseTimeout = time.Hour // the handshake's end, not its bound, ends it
	h := start(t, "ws://venue.test/ws", opts, k, leaks)
	recvWait(t, inHandler, "the handler")
	closed := make(chan error, 1)
	go func() { closed <- h.c.Close(context.Background()) }()
	// The close frame goes out and Conn.Close reads (and panics) while the
	// handler still holds the reader.
	cn := h.live()
	require.Eventually(t, func() bool { return cn == nil || cn.mode.Load() == modeRetired }, wait, time.Millisecond)
	close(release)
	require.NoError(t, recvWait(t, closed, "Close"))
	h.finish(nil)
}
