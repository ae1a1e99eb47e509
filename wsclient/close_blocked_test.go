package wsclient

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// countingConn counts the bytes written through it and calls deep once
// more than 2 KiB have been (the handshake request is well under it).
type countingConn struct {
	net.Conn
	n    atomic.Int64
	once sync.Once
	deep func()
}

func (c *countingConn) Write(p []byte) (int, error) {
	if c.n.Add(int64(len(p))) > 2<<10 {
		c.once.Do(c.deep)
	}
	return c.Conn.Write(p)
}

// smallBufferClient is a host's HTTP client whose sockets have small send
// buffers, and which closes deep once its dial number nth has written more
// than its handshake: a large message then stays stuck in the write as
// long as the venue reads nothing.
func smallBufferClient(nth int32, deep chan struct{}) *http.Client {
	var dials atomic.Int32
	d := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			_ = c.(*net.TCPConn).SetWriteBuffer(8 << 10)
			cc := &countingConn{Conn: c, deep: func() {}}
			if dials.Add(1) == nth {
				cc.deep = func() { close(deep) }
			}
			return cc, nil
		},
	}}
}

// silentReader is a venue that answers the handshake and then reads
// nothing at all (its receive buffer small): the client's writes fill
// TCP's buffers and block.
func silentReader(pc *peerConn) {
	_ = pc.c.(*net.TCPConn).SetReadBuffer(8 << 10)
	<-pc.done
}

// A subscription write that the venue does not read blocks (TCP's buffers
// full). The client's own writes carry no ending context, so Close must
// end such a write itself: within the close handshake's bound, the socket
// is cut. Close hung here, Run never returned and the socket and the
// connection's goroutines stayed (the watchdog and the pinger, which could
// have cut it, stop when the context ends).
func TestCloseWhileSubscriptionWriteBlocked(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, silentReader)
	deep := make(chan struct{})
	opts := peerOptions()
	opts.HTTPClient = smallBufferClient(1, deep)
	opts.Subscriptions = [][]byte{[]byte(`{"op":"sub","args":["` + strings.Repeat("x", 4<<20) + `"]}`)}
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	recvWait(t, deep, "the subscription's write under way")

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, h.close(ctx), "Close returns once the bound passed")
	require.NoError(t, recvWait(t, h.runErr, "Run"))
	require.Equal(t, schema.ConnClosed, h.c.State())
	require.Zero(t, h.frames.Stats().InUse)
	p.close()
	goleak.VerifyNone(t, leaks)
}

// The same for a rotation's new connection: its subscription is stuck
// while Close is called (the old connection, live, answers nothing
// either: its close handshake runs out its bound).
func TestCloseWhileRotationSubscriptionBlocked(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	var n atomic.Int32
	p := newRawPeer(t, func(pc *peerConn) {
		if n.Add(1) == 1 {
			pc.p.wg.Add(1)
			go func() { // reads everything, answers nothing
				defer pc.p.wg.Done()
				_, _ = io.Copy(io.Discard, pc.br)
			}()
			_ = pc.write(text(`{"conn":1}`))
			<-pc.done
			return
		}
		silentReader(pc)
	})
	deep := make(chan struct{})
	opts := peerOptions()
	big := []byte(`{"op":"sub","args":["` + strings.Repeat("x", 4<<20) + `"]}`)
	opts.Subscriptions = [][]byte{big}
	opts.HTTPClient = smallBufferClient(2, deep)
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	require.NoError(t, h.c.Rotate())
	h.rec.waitFor(t, "rotating", isState(schema.ConnRotating))
	recvWait(t, deep, "the new connection's subscription write under way")

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, h.close(ctx))
	require.NoError(t, recvWait(t, h.runErr, "Run"))
	require.Zero(t, h.frames.Stats().InUse)
	p.close()
	goleak.VerifyNone(t, leaks)
}

// cutCloser records that the client cut a socket (cn.cut) itself.
type cutCloser struct {
	io.Closer
	once sync.Once
	cut  chan struct{}
}

func (c *cutCloser) Close() error {
	c.once.Do(func() { close(c.cut) })
	return c.Closer.Close()
}

// A rotation's old connection is in its close handshake (the venue never
// answers) when Close is called with a ctx already ended: the handshake
// under way keeps to that ctx too, as the doc says ("or until the ctx of
// the first Close ends"): the client cuts the socket at once, the clock
// never moving. It waited out CloseTimeout (here an hour; coder/websocket
// gives up after 5 s of wall time, and closes the socket itself): the
// handshake read Close's ctx only when it began.
func TestCloseHurriesHandshakeBegunBefore(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer) // never answers a close frame
	opts := peerOptions()
	opts.RotationOverlap = time.Second
	opts.CloseTimeout = time.Hour
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	old := h.live()
	rec := &cutCloser{Closer: old.raw.get(), cut: make(chan struct{})}
	old.raw.set(rec)
	require.NoError(t, h.c.Rotate())
	h.switchUnaligned(opts.RotationOverlap)
	recvWait(t, p.conn(1).closes, "the old connection's close frame")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Close returns its ctx's error, or nil when Run was done by the time
	// it looked: the cut is immediate, and Close's select picks either of
	// two ready cases (it failed once so under -race). What this test
	// holds to is the cut below, the clock never moving.
	if err := h.c.Close(ctx); err != nil {
		require.ErrorIs(t, err, context.Canceled)
	}
	recvWait(t, rec.cut, "the old connection's socket cut by the client")
	require.NoError(t, recvWait(t, h.runErr, "Run, the clock never moving"))
	recvWait(t, p.conn(1).gone, "connection 1 cut")
	recvWait(t, p.conn(2).gone, "connection 2 cut")
	require.Zero(t, h.frames.Stats().InUse)
	p.close()
	goleak.VerifyNone(t, leaks)
}

// Close from many goroutines at once, some with a ctx already ended,
// while Run's own ctx ends too and a venue that never answers holds the
// handshake: every Close returns (nil, or its ctx's error), Run returns,
// the socket is closed and nothing is left running.
func TestCloseConcurrentWithRunEnd(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	opts := peerOptions()
	clk := newFakeClock()
	opts.Clock = clk
	k := &sink{}
	c, err := New(p.url(), k.handle, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()
	k.waitFor(t, `{"conn":1}`)
	stop := make(chan struct{})
	defer close(stop)
	go func() { // the bound passes for a Close whose ctx never ends
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				clk.advance(c.opts.CloseTimeout)
			}
		}
	}()
	ended, end := context.WithCancel(context.Background())
	end()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			cctx := context.Background()
			if i%2 == 1 {
				cctx = ended
			}
			errs <- c.Close(cctx)
		})
		if i == 4 {
			cancel()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.True(t, err == nil || errors.Is(err, context.Canceled), "Close: %v", err)
	}
	err = recvWait(t, ran, "Run")
	require.True(t, err == nil || errors.Is(err, context.Canceled), "Run: %v", err)
	recvWait(t, p.conn(1).gone, "socket closed")
	p.close()
	stop <- struct{}{}
	goleak.VerifyNone(t, leaks)
}
