package wsclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// A venue that stops reading (its receive window full) blocks the host's
// Write (an order) in TCP. With a context that never ends, Close still
// returns within the close handshake's bound: it cuts the socket, and the
// Write returns an error instead of hanging. (Held: bounded already.)
func TestHostWriteToVenueThatStopsReading(t *testing.T) {
	big := []byte(`{"op":"order","pad":"` + strings.Repeat("x", 4<<20) + `"}`)
	t.Run("Close", func(t *testing.T) {
		leaks := goleak.IgnoreCurrent()
		p := newRawPeer(t, silentReader)
		deep := make(chan struct{})
		opts := peerOptions()
		opts.Subscriptions = nil
		opts.HTTPClient = smallBufferClient(1, deep)
		h := start(t, p.url(), opts, &sink{}, leaks)
		h.rec.waitFor(t, "connected", connected(1))
		wrote := make(chan error, 1)
		go func() { wrote <- h.c.Write(context.Background(), big) }()
		recvWait(t, deep, "the write under way")
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		require.NoError(t, h.close(ctx))
		require.Error(t, recvWait(t, wrote, "the blocked Write's return"))
		require.NoError(t, recvWait(t, h.runErr, "Run"))
		require.Zero(t, h.frames.Stats().InUse)
		p.close()
		goleak.VerifyNone(t, leaks)
	})
	t.Run("pong timeout", func(t *testing.T) {
		// Nobody closes, the ctx never ends: the ping queued behind the
		// write goes unanswered, the pong timeout (on the Clock) cuts the
		// connection, and the Write returns.
		leaks := goleak.IgnoreCurrent()
		p := newRawPeer(t, func(pc *peerConn) {
			if pc.n == 1 {
				silentReader(pc)
				return
			}
			steadyPeer(pc)
		})
		deep := make(chan struct{})
		opts := peerOptions()
		opts.Subscriptions = nil
		opts.HTTPClient = smallBufferClient(1, deep)
		opts.PingInterval = time.Second
		opts.PongTimeout = 2 * time.Second
		h := start(t, p.url(), opts, &sink{}, leaks)
		h.rec.waitFor(t, "connected", connected(1))
		cn := h.live()
		wrote := make(chan error, 1)
		go func() { wrote <- h.c.Write(context.Background(), big) }()
		recvWait(t, deep, "the write under way")
		for i := 0; i < 64 && !h.lostConn1(); i++ {
			tickWatchdog(t, h, cn, opts.PongTimeout/8)
		}
		require.Error(t, recvWait(t, wrote, "the blocked Write's return"))
		require.ErrorIs(t, requireLost(t, h, ReasonPongTimeout).Err, ErrPongTimeout)
		h.finish(nil, p.close)
	})
	// A ctx the host ends mid-write no longer closes the connection: see
	// TestHostWriteCtxEndsMidWrite and TestHostWriteTimeout.
}

// A venue (or a CDN in front of it) that speaks HTTP/2: the upgrade is
// sent over HTTP/1.1 (net/http offers only http/1.1 in ALPN for a request
// that needs it), with the host's transport forcing HTTP/2 attempts or
// not. (Held.)
func TestHandshakeToHTTP2Server(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	protos := make(chan string, 4)
	hello := helloVenue()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protos <- r.Proto
		hello.ServeHTTP(w, r)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = true
	opts := peerOptions()
	opts.Subscriptions = nil
	opts.HTTPClient = &http.Client{Transport: tr}
	h := start(t, "wss"+strings.TrimPrefix(srv.URL, "https"), opts, &sink{}, leaks)
	h.sink.waitFor(t, "hello")
	require.Equal(t, "HTTP/1.1", recvWait(t, protos, "handshake"))
	require.Equal(t, schema.ConnConnected, h.c.State())
	h.finish(nil, srv.Close, tr.CloseIdleConnections)
}

// helloVenue is a venue's handler that says "hello" on each connection
// and keeps it open until the client goes.
func helloVenue() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { acceptHello(w, r, nil) })
}

// acceptHello accepts the handshake, sends "hello" and reads until the
// client goes.
func acceptHello(w http.ResponseWriter, r *http.Request, aopts *websocket.AcceptOptions) {
	ws, err := websocket.Accept(w, r, aopts)
	if err != nil {
		return
	}
	defer func() { _ = ws.CloseNow() }()
	_ = ws.Write(r.Context(), websocket.MessageText, []byte("hello"))
	_, _, _ = ws.Read(r.Context())
}

// TLS server name: a venue reached by address (or through a fronting
// name) with the host's tls.Config.ServerName set: the client's clone of
// the host's transport keeps it, so SNI and certificate verification use
// it, and a Host header changes neither. (Held.)
func TestTLSServerNameKept(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	sni := make(chan string, 4)
	hello := helloVenue()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sni <- r.TLS.ServerName + " " + r.Host
		hello.ServeHTTP(w, r)
	}))
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.ServerName = "example.com" // in httptest's certificate
	opts := peerOptions()
	opts.Subscriptions = nil
	opts.HTTPClient = &http.Client{Transport: tr}
	opts.HTTPHeader = http.Header{"Host": {"stream.example.com"}}
	h := start(t, "wss"+strings.TrimPrefix(srv.URL, "https"), opts, &sink{}, leaks)
	h.sink.waitFor(t, "hello")
	require.Equal(t, "example.com stream.example.com", recvWait(t, sni, "handshake"))
	h.finish(nil, srv.Close, tr.CloseIdleConnections)
}
