package wsclient

import (
	"context"
	"encoding/binary"
	"net"
	"sync/atomic"
	"testing"

	"github.com/meltica/meltica/schema"
)

// rawVenue is a loopback WebSocket server that, after the handshake, writes
// pre-encoded frames straight to the socket: the server side allocates
// nothing, so allocation counts measure the client alone.
type rawVenue struct {
	v    *venue
	raw  chan net.Conn
	conn net.Conn
}

func newRawVenue(tb testing.TB) *rawVenue {
	r := &rawVenue{raw: make(chan net.Conn, 1)}
	r.v = newVenue(nil, func(s *session) {
		r.raw <- s.raw
		<-s.ctx.Done() // keeps s.ws reachable: its finalizer would close the socket
	})
	tb.Cleanup(r.v.close)
	return r
}

// encodeFrames returns n unmasked server text frames of size bytes each.
func encodeFrames(n, size int) []byte {
	var hdr []byte
	switch {
	case size < 126:
		hdr = []byte{0x81, byte(size)}
	case size < 1<<16:
		hdr = []byte{0x81, 126, 0, 0}
		binary.BigEndian.PutUint16(hdr[2:], uint16(size))
	default:
		hdr = make([]byte, 10)
		hdr[0], hdr[1] = 0x81, 127
		binary.BigEndian.PutUint64(hdr[2:], uint64(size))
	}
	payload := make([]byte, size)
	payload[0] = '{'
	for i := 1; i < size-1; i++ {
		payload[i] = 'a' + byte(i%26)
	}
	payload[size-1] = '}'
	var b []byte
	for range n {
		b = append(b, hdr...)
		b = append(b, payload...)
	}
	return b
}

// counter is a frame handler that signals when it has seen target frames.
type counter struct {
	n      atomic.Int64
	target atomic.Int64
	done   chan struct{}
}

func newCounter() *counter { return &counter{done: make(chan struct{}, 1)} }

func (k *counter) handle(_ context.Context, f *schema.WsFrame) error {
	if len(f.Data) == 0 {
		return errJunk
	}
	if k.n.Add(1) == k.target.Load() {
		k.done <- struct{}{}
	}
	return nil
}

// expect arms the counter for n more frames.
func (k *counter) expect(n int64) { k.target.Store(k.n.Load() + n) }

// benchOptions: no pings, no watchdog, no subscriptions: nothing but reads.
func benchOptions() *Options {
	return &Options{Venue: schema.VenueBinance, PingInterval: -1, IdleTimeout: -1}
}

// startRaw runs a client against a raw venue and returns once connected.
func startRaw(tb testing.TB, k *counter, edit ...func(*Options)) (*rawVenue, *Client, chan error) {
	r := newRawVenue(tb)
	opts := benchOptions()
	for _, e := range edit {
		e(opts)
	}
	c, err := New(r.v.url(), k.handle, opts)
	if err != nil {
		tb.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(context.Background()) }()
	r.conn = <-r.raw
	return r, c, runErr
}

// pump writes n frames from block (which holds per frames) and waits for
// the handler to have seen them.
func (r *rawVenue) pump(tb testing.TB, k *counter, block []byte, per, n int) {
	k.expect(int64(n))
	size := len(block) / per
	for n > 0 {
		m := min(n, per)
		if _, err := r.conn.Write(block[:m*size]); err != nil {
			tb.Fatal(err)
		}
		n -= m
	}
	<-k.done
}

func stopRaw(tb testing.TB, r *rawVenue, c *Client, runErr chan error) {
	if err := c.Close(context.Background()); err != nil {
		tb.Fatal(err)
	}
	if err := <-runErr; err != nil {
		tb.Fatal(err)
	}
	r.v.close()
}
