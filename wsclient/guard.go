package wsclient

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// ErrMaskedFrame is the read error of a connection whose server sent a
// masked frame, which RFC 6455 §5.1 forbids ("A client MUST close a
// connection if it detects a masked frame"). coder/websocket does not check
// it (it would hand the payload over still masked); the client's own HTTP
// transport does (see [Options].HTTPClient). The connection is
// re-established (ReasonReadError).
var ErrMaskedFrame = errors.New("wsclient: the server sent a masked frame (RFC 6455 §5.1)")

// guard wraps the network connection of a WebSocket dialled with the
// client's own HTTP transport, under coder/websocket: it follows the frame
// headers in the bytes read from the socket (skipping payloads, so a read
// costs a few comparisons per frame), refuses a masked frame, and counts
// the data payload bytes that arrive, so that the watchdog sees a message
// that trickles in as traffic, not as silence. Reads come from one
// goroutine at a time (the transport's during the handshake, then the
// connection's reader).
type guard struct {
	net.Conn
	st     uint8
	head   [2]byte  // first two header bytes of the frame being read
	hn     int      // header bytes read of the current frame
	need   int      // header length of the current frame (2, 4 or 10)
	plen   uint64   // payload length, assembled from the extended length
	left   uint64   // payload bytes of the current frame still to come
	data   bool     // the current frame is a data frame
	inMsg  bool     // a data frame without FIN came: the message goes on
	http   [12]byte // the start of the answer's status line
	httpN  int      // bytes of the answer's head read
	line   int      // bytes of its current line, CR aside
	err    error
	dataRx atomic.Uint64 // data payload bytes read
}

// maxHTTPHead bounds the handshake answer's head the guard follows (net/http
// refuses longer ones anyway).
const maxHTTPHead = 1 << 20

// Dialer settings of http.DefaultTransport's, which the client's own
// transport keeps.
const (
	defaultNetDialTimeout = 30 * time.Second
	defaultKeepAlive      = 30 * time.Second
)

// guard states.
const (
	gHTTP    uint8 = iota // the handshake answer's head
	gHeader               // a frame header
	gPayload              // a frame payload
	gOff                  // not a WebSocket (the upgrade was refused): not followed
)

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.Conn.Read(p)
	if g.st != gOff && n > 0 {
		if k, ok := g.scan(p[:n]); !ok {
			g.err = ErrMaskedFrame
			if k == 0 {
				return 0, g.err
			}
			return k, nil // the frames before the masked one; the error next
		}
	}
	if err != nil && g.midMessage() && errors.Is(err, io.EOF) {
		// The connection ended inside a message. coder/websocket takes an
		// EOF between two fragments for the end of the message and would
		// deliver the part as a whole one.
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// midMessage reports whether the bytes so far end inside a message.
func (g *guard) midMessage() bool {
	return (g.st == gHeader || g.st == gPayload) && (g.inMsg || g.st == gPayload || g.hn > 0)
}

// scan follows b; on a masked frame it returns false and the length of b
// before that frame.
func (g *guard) scan(b []byte) (int, bool) {
	var rx uint64
	start := 0 // where the current frame began in b (0 if before b)
	for i := 0; i < len(b); {
		switch g.st {
		case gHTTP:
			c := b[i]
			i++
			if g.httpN < len(g.http) {
				g.http[g.httpN] = c
			}
			g.httpN++
			switch {
			case c == '\n' && g.line == 0 && g.httpN > 2: // the empty line that ends the head
				if string(g.http[9:]) != "101" {
					g.st = gOff // a refused upgrade: this is no WebSocket
					return len(b), true
				}
				g.st, start = gHeader, i
			case c == '\n':
				g.line = 0
			case c != '\r':
				g.line++
			}
			if g.httpN > maxHTTPHead {
				g.st = gOff
				return len(b), true
			}
		case gHeader:
			if g.hn == 0 {
				start = i
				if h, l, ok := frameHeader(b[i:]); ok { // the whole header is here
					if b[i+1]&0x80 != 0 {
						g.dataRx.Add(rx)
						return start, false
					}
					data := b[i]&0x08 == 0
					if data {
						g.inMsg = b[i]&0x80 == 0
					}
					i += h
					if n := uint64(len(b) - i); l > n { // the payload goes on in the next read
						g.left, g.data, g.st = l-n, data, gPayload
						l = n
					}
					i += int(l)
					if data {
						rx += l
					}
					continue
				}
			}
			c := b[i]
			i++
			switch g.hn {
			case 0:
				g.head[0] = c
			case 1:
				g.head[1] = c
				if c&0x80 != 0 {
					g.dataRx.Add(rx)
					return start, false
				}
				switch l := c & 0x7f; l {
				case 126:
					g.need = 4
				case 127:
					g.need = 10
				default:
					g.need, g.plen = 2, uint64(l)
				}
			default:
				g.plen = g.plen<<8 | uint64(c)
			}
			g.hn++
			if g.hn >= 2 && g.hn == g.need {
				g.left, g.data = g.plen, g.head[0]&0x08 == 0
				if g.data {
					g.inMsg = g.head[0]&0x80 == 0
				}
				g.hn, g.plen = 0, 0
				if g.left > 0 {
					g.st = gPayload
				}
			}
		case gPayload:
			m := uint64(len(b) - i)
			if m >= g.left {
				m, g.st = g.left, gHeader
			}
			g.left -= m
			i += int(m)
			if g.data {
				rx += m
			}
		}
	}
	if rx > 0 {
		g.dataRx.Add(rx)
	}
	return len(b), true
}

// frameHeader parses the frame header at the start of b: its length and
// the payload length, or false if b does not hold all of it.
func frameHeader(b []byte) (int, uint64, bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	switch l := b[1] & 0x7f; {
	case l < 126:
		return 2, uint64(l), true
	case l == 126 && len(b) >= 4:
		return 4, uint64(binary.BigEndian.Uint16(b[2:])), true
	case l == 127 && len(b) >= 10:
		return 10, binary.BigEndian.Uint64(b[2:]), true
	}
	return 0, 0, false
}

// guardSlot travels in the dial's context to the transport's dialer, which
// wraps the connections it dials for the target address in guards, and
// receives the guard of the connection the handshake was sent on (a new one
// or, should net/http reuse one dialled for an earlier attempt, that one).
type guardSlot struct {
	addr string // host:port of the WebSocket URL
	g    atomic.Pointer[guard]
}

type guardKey struct{}

// withGuardSlot returns ctx carrying a slot for the guard of a connection
// to addr.
func withGuardSlot(ctx context.Context, addr string) (context.Context, *guardSlot) {
	s := &guardSlot{addr: addr}
	ctx = context.WithValue(ctx, guardKey{}, s)
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if g, ok := info.Conn.(*guard); ok {
			s.g.Store(g)
		}
	}}), s
}

// guarded wraps conn in a guard if ctx asks for one for addr: a connection
// to a proxy is left alone.
func guarded(ctx context.Context, addr string, conn net.Conn) net.Conn {
	if s, _ := ctx.Value(guardKey{}).(*guardSlot); s == nil || s.addr != addr {
		return conn
	}
	return &guard{Conn: conn}
}

// guardTransport makes t wrap the WebSocket connections it dials in a
// guard, plain and TLS alike. Its TLS dialer speaks HTTP/1.1 only, which
// the WebSocket handshake needs anyway.
func guardTransport(t *http.Transport) {
	t.ForceAttemptHTTP2 = false
	d := &net.Dialer{Timeout: defaultNetDialTimeout, KeepAlive: defaultKeepAlive}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		// An https:// target's connection is dialled by DialTLSContext,
		// unless it goes through a proxy: then addr is the proxy's and the
		// connection is left alone (TLS goes on top of it).
		return guarded(ctx, addr, conn), nil
	}
	t.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if t.TLSClientConfig != nil {
			cfg = t.TLSClientConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		cfg.NextProtos = []string{"http/1.1"}
		td := &tls.Dialer{NetDialer: d, Config: cfg}
		conn, err := td.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return guarded(ctx, addr, conn), nil
	}
}
