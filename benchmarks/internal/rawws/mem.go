package rawws

import (
	"net"
	"net/http"
	"sync/atomic"
)

// MemClient returns an HTTP client for WebSocket dials that never touch the
// network: every handshake succeeds at once, and the connection reads block
// (whole frames, see AppendFrame) from memory over and over and discards
// what the client writes. A client's read path then runs without sockets,
// system calls or a writer goroutine: what is left is the parsing and
// bookkeeping of the client itself. Any URL will do (ws://mem/).
func MemClient(block []byte) *http.Client {
	return &http.Client{Transport: memTransport{block: block}}
}

type memTransport struct{ block []byte }

func (t memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h := http.Header{}
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Accept", accept(req.Header.Get("Sec-WebSocket-Key")))
	return &http.Response{
		StatusCode: http.StatusSwitchingProtocols,
		Status:     "101 Switching Protocols",
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Body:       &memConn{block: t.block},
		Request:    req,
	}, nil
}

// memConn is the connection of MemClient: an endless read of block. Reads
// come from one goroutine at a time (the WebSocket client's read lock);
// Close may come from any.
type memConn struct {
	block  []byte
	off    int
	closed atomic.Bool
}

func (c *memConn) Read(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	n := copy(p, c.block[c.off:])
	if c.off += n; c.off == len(c.block) {
		c.off = 0
	}
	return n, nil
}

func (c *memConn) Write(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	return len(p), nil
}

func (c *memConn) Close() error {
	c.closed.Store(true)
	return nil
}
