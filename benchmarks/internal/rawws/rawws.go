// Package rawws is a minimal WebSocket server for the benchmarks: it does the
// handshake by hand and writes pre-encoded frames straight to the socket, so
// that the server costs almost nothing and both clients under test read the
// very same bytes.
package rawws

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

const guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AppendFrame appends payload as one unmasked server text frame.
func AppendFrame(dst, payload []byte) []byte {
	dst = append(dst, 0x81)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, byte(n))
	case n < 1<<16:
		dst = append(dst, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// Server serves WebSocket connections; each one is handed to Stream on a
// goroutine of its own after the handshake.
type Server struct {
	*httptest.Server
	wg sync.WaitGroup
}

// Start starts a server whose connections are given to stream, which
// writes to w (flushed by the caller) and returns when it is done or the
// connection fails. The connection is closed after stream returns.
func Start(stream func(conn net.Conn, w *bufio.Writer)) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Sec-WebSocket-Key")
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || key == "" {
			http.Error(rw, "not a websocket request", http.StatusBadRequest)
			return
		}
		conn, brw, err := rw.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		s.wg.Add(1)
		defer s.wg.Done()
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			accept(key) + "\r\n\r\n")
		if brw.Flush() != nil {
			return
		}
		// Discard whatever the client sends (pongs, subscriptions, close).
		go func() {
			buf := make([]byte, 4096)
			for {
				if _, err := conn.Read(buf); err != nil {
					return
				}
			}
		}()
		stream(conn, bufio.NewWriterSize(conn, 64<<10))
	}))
	return s
}

// accept is the Sec-WebSocket-Accept answer to a handshake's key (RFC 6455
// section 4.2.2).
func accept(key string) string {
	h := sha1.Sum([]byte(key + guid))
	return base64.StdEncoding.EncodeToString(h[:])
}

// URL is the ws:// address of the server.
func (s *Server) URL() string { return "ws" + strings.TrimPrefix(s.Server.URL, "http") }

// Close closes every connection and waits for the streams to end.
func (s *Server) Close() {
	s.CloseClientConnections()
	s.Server.Close()
	s.wg.Wait()
}
