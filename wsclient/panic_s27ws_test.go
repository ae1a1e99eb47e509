package wsclient

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
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
