package wsclient

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// spyTransport is a host's RoundTripper (Options.HTTPClient) over a
// transport of its own: it counts the reads of the first answer's body,
// the one the test's peer refuses the handshake with.
type spyTransport struct {
	rt    *http.Transport
	trips atomic.Int32
	reads atomic.Int32 // of the first answer's body
}

func (s *spyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.rt.RoundTrip(req)
	if err == nil && s.trips.Add(1) == 1 {
		resp.Body = &spyBody{rc: resp.Body, reads: &s.reads}
	}
	return resp, err
}

func (s *spyTransport) CloseIdleConnections() { s.rt.CloseIdleConnections() }

// spyBody counts its reads; it is a ReadWriteCloser when its body is
// (a 101's socket).
type spyBody struct {
	rc    io.ReadCloser
	reads *atomic.Int32
}

func (b *spyBody) Read(p []byte) (int, error) {
	b.reads.Add(1)
	return b.rc.Read(p)
}

func (b *spyBody) Write(p []byte) (int, error) {
	if w, ok := b.rc.(io.Writer); ok {
		return w.Write(p)
	}
	return 0, errors.New("spyBody: not writable")
}

func (b *spyBody) Close() error { return b.rc.Close() }

// A refused handshake whose answer's body never ends (a 503 that
// announces a long body and sends one byte; a 101 with a wrong
// Sec-WebSocket-Accept after which the peer sends nothing) fails the dial
// at once, on a fake Clock that does not move: the client does not read
// the body. coder/websocket read up to 1 KiB of it "for easier
// debugging", bounded by a timer of 3 s on the wall clock, which neither
// DialTimeout nor the Clock shortened. The dial is reported (ReasonDial,
// a *HandshakeError for the 503) and retried; the next one delivers.
// TestS30RefusedHandshakeBodyNotRead failed before: the first answer's
// body was read (once per case, until the 3 s cut it).
func TestS30RefusedHandshakeBodyNotRead(t *testing.T) {
	for name, answer := range map[string]func(key string) string{
		"503 with a body that never ends": func(string) string {
			return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\nx"
		},
		"101 with a wrong accept, then silence": func(string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey("wrong") + "\r\n\r\n"
		},
	} {
		t.Run(name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, steadyPeer)
			refusedGone := make(chan struct{})
			p.answer = func(w io.Writer, n int, key string) bool {
				if n > 1 {
					return answer101(w, key)
				}
				_, _ = io.WriteString(w, answer(key))
				_, _ = io.Copy(io.Discard, p.conn(1).c) // until the client closes it
				close(refusedGone)
				return false
			}
			spy := &spyTransport{rt: &http.Transport{}}
			opts := peerOptions()
			opts.HTTPClient = &http.Client{Transport: spy}
			h := start(t, p.url(), opts, &sink{}, leaks)
			re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
			require.Equal(t, ReasonDial, re.Reason)
			if strings.HasPrefix(answer(""), "HTTP/1.1 503") {
				var he *HandshakeError
				require.ErrorAs(t, re.Err, &he)
				require.Equal(t, http.StatusServiceUnavailable, he.StatusCode)
			}
			recvWait(t, refusedGone, "refused connection closed by the client")
			require.Zero(t, spy.reads.Load(), "the refused answer's body was read: a peer that trickles it holds the dial")
			h.rec.waitFor(t, "connected on 1", connected(1))
			h.sink.waitFor(t, `{"conn":2}`)
			require.EqualValues(t, 1, h.c.Stats().Reconnects[ReasonDial])
			h.finish(nil, p.close, spy.rt.CloseIdleConnections)
		})
	}
}

// A redirect (302) whose body is shorter than its Content-Length (the
// peer sends one byte of 100 and keeps the connection open) is followed
// at once: net/http read such a body, up to 2 KiB, before following the
// redirect, bounded only by the dial's ctx — DialTimeout on the Clock,
// so that on a fake Clock that does not move the dial hung for ever, and
// on the wall clock it failed after DialTimeout (10 s by default) for a
// venue that answered at once. TestS30RedirectBodyNotAwaited failed
// before: no connection within the test's wait.
func TestS30RedirectBodyNotAwaited(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	p.answer = func(w io.Writer, n int, key string) bool {
		if n > 1 {
			return answer101(w, key)
		}
		_, _ = io.WriteString(w, "HTTP/1.1 302 Found\r\nLocation: "+p.url()+"2\r\nContent-Length: 100\r\n\r\nx")
		_, _ = io.Copy(io.Discard, p.conn(1).c)
		return false
	}
	h := start(t, p.url(), peerOptions(), &sink{}, leaks)
	h.rec.waitFor(t, "connected on 1 (the redirect followed)", connected(1))
	h.sink.waitFor(t, `{"conn":2}`)
	require.Zero(t, h.c.Stats().Reconnects[ReasonDial], "the dial failed: %v", h.rec.all())
	h.finish(nil, p.close)
}

// The same refusal from a TLS endpoint (httptest.NewTLSServer, its
// certificate trusted through the host's *http.Transport): a 503 whose
// body never ends is reported at once as a *HandshakeError and redialled
// on the backoff; the next dial, over TLS too, delivers. Nothing is left
// running (the refused TLS connection is closed unread). Coverage of the
// TLS path of TestS30RefusedHandshakeBodyNotRead's fix; before it, this
// took 3 s of wall time and passed.
func TestS30TLSRefusalWithEndlessBody(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	var n atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Content-Length", "100000")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "x")
			w.(http.Flusher).Flush()
			<-r.Context().Done() // the client closes the connection
			return
		}
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = ws.CloseNow() }()
		_ = ws.Write(r.Context(), websocket.MessageText, []byte(`{"conn":2}`))
		for {
			if _, _, err := ws.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	tr := srv.Client().Transport.(*http.Transport).Clone()
	opts := peerOptions()
	opts.Subscriptions = nil
	opts.HTTPClient = &http.Client{Transport: tr}
	h := start(t, "wss"+strings.TrimPrefix(srv.URL, "https"), opts, &sink{}, leaks)
	re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.Equal(t, ReasonDial, re.Reason)
	var he *HandshakeError
	require.ErrorAs(t, re.Err, &he)
	require.Equal(t, http.StatusServiceUnavailable, he.StatusCode)
	h.rec.waitFor(t, "connected on 1", connected(1))
	h.sink.waitFor(t, `{"conn":2}`)
	require.EqualValues(t, 1, h.c.Stats().Reconnects[ReasonDial])
	h.finish(nil, srv.Close, tr.CloseIdleConnections)
}
