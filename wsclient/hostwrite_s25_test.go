package wsclient

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// slowVenue is a peer whose first connection reads nothing (a large
// write of the client then blocks in TCP: the receive window does not
// grow while nothing is read) until release is closed, then reads every
// frame; later connections read all. Its receive buffer is left as it
// is: one shrunk after the handshake dropped segments, and the client's
// retransmissions backed off for seconds.
func slowVenue(release <-chan struct{}) func(pc *peerConn) {
	return func(pc *peerConn) {
		if pc.n == 1 {
			select {
			case <-release:
			case <-pc.done:
				return
			}
		}
		pc.readClient()
		pc.hold()
	}
}

// startSlow runs a client without subscriptions, pings or pacing against
// slowVenue, its first socket's send buffer small; deep closes once a
// write is under way on it.
func startSlow(t *testing.T, release <-chan struct{}) (*harness, *rawPeer, chan struct{}) {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, slowVenue(release))
	deep := make(chan struct{})
	opts := peerOptions()
	opts.Subscriptions = nil
	opts.HTTPClient = smallBufferClient(1, deep)
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	return h, p, deep
}

// nextMsg waits for connection pc's next message from the client.
func nextMsg(t *testing.T, pc *peerConn) string {
	t.Helper()
	return recvWait(t, pc.msgs, "a message at the venue")
}

// bigOrder is a message too large for the socket buffers of startSlow:
// its write stays under way while the venue reads nothing.
var bigOrder = `{"op":"order","pad":"` + strings.Repeat("x", 4<<20) + `"}`

// A host's ctx that ends while its message is being written: coder/websocket
// closes a connection whose write context ends mid-write, which took the
// order connection from every other order. The write is now detached from
// the host's ctx once begun: it goes out whole, Write says it was sent, the
// connection lives, and another writer waiting behind it is unaffected.
func TestHostWriteCtxEndsMidWrite(t *testing.T) {
	release := make(chan struct{})
	h, p, deep := startSlow(t, release)
	ctx, cancel := context.WithCancel(context.Background())
	wrote := make(chan error, 1)
	go func() { wrote <- h.c.Write(ctx, []byte(bigOrder)) }()
	recvWait(t, deep, "the write under way")
	other := make(chan error, 1)
	go func() { other <- h.c.Write(context.Background(), []byte(`{"op":"order","id":2}`)) }()
	cancel() // mid-write: the venue has read nothing of it
	close(release)
	require.NoError(t, recvWait(t, wrote, "the Write's return"), "a message begun is written to the end")
	require.NoError(t, recvWait(t, other, "the other writer's return"))
	pc := p.conn(1)
	require.Equal(t, bigOrder, nextMsg(t, pc), "the whole message reached the venue")
	require.Equal(t, `{"op":"order","id":2}`, nextMsg(t, pc))
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"after"}`)))
	require.Equal(t, `{"op":"after"}`, nextMsg(t, pc), "connection 1 still serves")
	require.False(t, h.lostConn1(), "events: %v", h.rec.all())
	require.Equal(t, uint64(1), h.c.Stats().ConnID)
	h.finish(nil, p.close)
}

// A host's ctx that ends while its write waits for its turn (another
// message is being written) stops it: nothing of it is sent, Write says so
// with ErrNotSent and ctx's error, and the connection is untouched.
func TestHostWriteCtxEndsBeforeWrite(t *testing.T) {
	release := make(chan struct{})
	h, p, deep := startSlow(t, release)
	first := make(chan error, 1)
	go func() { first <- h.c.Write(context.Background(), []byte(bigOrder)) }()
	recvWait(t, deep, "the first write under way")
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() { second <- h.c.Write(ctx, []byte(`{"op":"order","id":"never"}`)) }()
	cancel()
	err := recvWait(t, second, "the waiting Write's return")
	require.ErrorIs(t, err, ErrNotSent)
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, ErrMaybeSent)
	select {
	case err := <-first:
		t.Fatalf("the first write ended before the venue read: %v", err)
	default:
	}
	close(release)
	require.NoError(t, recvWait(t, first, "the first Write's return"))
	pc := p.conn(1)
	require.Equal(t, bigOrder, nextMsg(t, pc))
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"after"}`)))
	require.Equal(t, `{"op":"after"}`, nextMsg(t, pc), "the stopped message was never sent")
	require.False(t, h.lostConn1(), "events: %v", h.rec.all())
	h.finish(nil, p.close)
}

// A ctx that has already ended sends nothing and costs nothing:
// coder/websocket picked at random between the ended ctx and a free lock,
// and, given the lock, closed the connection at once (its write timeout
// fires on a done ctx), so that most such writes killed the connection.
func TestHostWriteCtxAlreadyEnded(t *testing.T) {
	rel := make(chan struct{})
	close(rel) // the venue reads from the start
	h, p, _ := startSlow(t, rel)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 64 {
		err := h.c.Write(ctx, []byte(`{"op":"order"}`))
		require.ErrorIs(t, err, ErrNotSent, "write %d", i)
		require.ErrorIs(t, err, context.Canceled, "write %d", i)
		require.ErrorIs(t, h.c.WriteConn(ctx, 1, []byte(`{"op":"order"}`)), ErrNotSent, "write %d", i)
	}
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"after"}`)))
	require.Equal(t, `{"op":"after"}`, nextMsg(t, p.conn(1)), "nothing else was sent; connection 1 serves")
	require.False(t, h.lostConn1(), "events: %v", h.rec.all())
	h.finish(nil, p.close)
}

// A venue that reads nothing: a write begun is bounded by the client's own
// Options.WriteTimeout (on the Clock), not by the host's ctx. When it
// passes, the connection is cut (coder/websocket cannot stop a frame half
// written and keep the connection), Write says the message may have been
// sent (ErrMaybeSent, not ErrNotSent), and the client redials.
func TestHostWriteTimeout(t *testing.T) {
	release := make(chan struct{}) // never: connection 1 reads nothing
	h, p, deep := startSlow(t, release)
	wrote := make(chan error, 1)
	go func() { wrote <- h.c.Write(context.Background(), []byte(bigOrder)) }()
	recvWait(t, deep, "the write under way")
	h.clock.advance(DefaultWriteTimeout)
	err := recvWait(t, wrote, "the Write's return")
	require.ErrorIs(t, err, ErrMaybeSent)
	require.NotErrorIs(t, err, ErrNotSent)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	lost := conn1Lost(t, h)
	require.Error(t, lost.Err)
	h.rec.waitFor(t, "connected on 2", connected(2))
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"after"}`)))
	require.Equal(t, `{"op":"after"}`, nextMsg(t, p.conn(2)))
	h.finish(nil, p.close)
}

// Every refusal before a byte is written matches ErrNotSent, so that a
// caller deciding whether an order went out needs one test.
func TestHostWriteRefusalsAreNotSent(t *testing.T) {
	c, err := New("ws://127.0.0.1:1", nop, nil)
	require.NoError(t, err)
	for _, err := range []error{
		c.Write(context.Background(), []byte("x")),
		c.WriteConn(context.Background(), 1, []byte("x")),
	} {
		require.ErrorIs(t, err, ErrNotConnected)
		require.ErrorIs(t, err, ErrNotSent)
	}
	require.NoError(t, c.Close(context.Background()))
	require.ErrorIs(t, c.Write(context.Background(), []byte("x")), ErrClosed)
	require.ErrorIs(t, c.Write(context.Background(), []byte("x")), ErrNotSent)
	require.False(t, errors.Is(ErrClosed, ErrNotSent), "ErrClosed itself is Run's too")
}
