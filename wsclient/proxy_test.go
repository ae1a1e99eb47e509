package wsclient

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// connectProxy is an HTTP proxy on loopback that tunnels CONNECT
// requests, as corporate proxies do for TLS (and for WebSockets: RFC 6455
// §4.1 asks a client configured with a proxy to ask it for a TCP tunnel
// with CONNECT). Any other request (an absolute-form GET, which such
// proxies forward without the hop-by-hop Upgrade and Connection headers
// when they forward it at all) is answered 403. With auth set, a CONNECT
// without that Proxy-Authorization is answered 407.
type connectProxy struct {
	srv  *httptest.Server
	auth string
	// refuse, when set, answers CONNECT number n instead of tunnelling
	// when it returns true.
	refuse   func(w http.ResponseWriter, n int) bool
	connects atomic.Int32
	others   atomic.Int32
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
	closed   bool
}

func newConnectProxy(t *testing.T, auth string) *connectProxy {
	px := &connectProxy{auth: auth}
	px.srv = httptest.NewServer(http.HandlerFunc(px.serve))
	t.Cleanup(px.close)
	return px
}

// newTLSConnectProxy is a connectProxy reached over TLS (an https://
// proxy URL), which also speaks HTTP/2 to a client that offers it.
func newTLSConnectProxy(t *testing.T) *connectProxy {
	px := &connectProxy{}
	px.srv = httptest.NewUnstartedServer(http.HandlerFunc(px.serve))
	px.srv.EnableHTTP2 = true
	px.srv.StartTLS()
	t.Cleanup(px.close)
	return px
}

func (px *connectProxy) url() *url.URL {
	u, _ := url.Parse(px.srv.URL)
	return u
}

func (px *connectProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		px.others.Add(1)
		http.Error(w, "CONNECT only", http.StatusForbidden)
		return
	}
	n := int(px.connects.Add(1))
	if px.refuse != nil && px.refuse(w, n) {
		return
	}
	if px.auth != "" && r.Header.Get("Proxy-Authorization") != px.auth {
		w.Header().Set("Proxy-Authenticate", `Basic realm="corp"`)
		w.WriteHeader(http.StatusProxyAuthRequired)
		return
	}
	up, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		_ = up.Close()
		return
	}
	// Hijacked, the handler is no longer waited for by srv.Close: a
	// tunnel opened while close runs is closed here, and wg.Add never
	// races close's wg.Wait.
	px.mu.Lock()
	if px.closed {
		px.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	px.conns = append(px.conns, c, up)
	px.wg.Add(2)
	px.mu.Unlock()
	_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() { defer px.wg.Done(); _, _ = io.Copy(up, brw); _ = up.Close() }()
	go func() { defer px.wg.Done(); _, _ = io.Copy(c, up); _ = c.Close() }()
}

func (px *connectProxy) close() {
	px.srv.Close()
	px.mu.Lock()
	px.closed = true
	for _, c := range px.conns {
		_ = c.Close()
	}
	px.mu.Unlock()
	px.wg.Wait()
}

// A host behind a corporate proxy connects: through an HTTPClient whose
// transport names the proxy (as the default client's does from
// HTTPS_PROXY/NO_PROXY: http.ProxyFromEnvironment, which never proxies a
// loopback address, so this test names the proxy itself), a wss:// venue
// is reached through a CONNECT tunnel, with the proxy's credentials from
// the proxy URL.
func TestProxyConnectTunnel(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))
	px := newConnectProxy(t, auth)
	srv := httptest.NewTLSServer(helloVenue())
	tr := srv.Client().Transport.(*http.Transport).Clone()
	pu := px.url()
	pu.User = url.UserPassword("u", "p")
	tr.Proxy = http.ProxyURL(pu)
	opts := peerOptions()
	opts.Subscriptions = nil
	opts.HTTPClient = &http.Client{Transport: tr}
	h := start(t, "wss"+strings.TrimPrefix(srv.URL, "https"), opts, &sink{}, leaks)
	h.sink.waitFor(t, "hello")
	require.EqualValues(t, 1, px.connects.Load())
	h.finish(nil, srv.Close, px.close, tr.CloseIdleConnections)
}

// The default HTTP client takes its proxy from the environment
// (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as http.DefaultTransport does.
func TestDefaultClientUsesEnvironmentProxy(t *testing.T) {
	tr, ok := ownHTTPClient().Transport.(*http.Transport)
	require.True(t, ok)
	require.NotNil(t, tr.Proxy)
}

// A proxy that refuses the tunnel is a refused handshake, with the
// proxy's status and Retry-After ([*HandshakeError] with Proxy set):
// 407 (credentials missing or wrong) is permanent like the venue's 401,
// for retrying a wrong password against a corporate proxy every
// BackoffCap only risks locking the account; a 503 with Retry-After is
// waited out. net/http reports a refused CONNECT as a bare error naming
// the status text, which the client retried as any lost dial.
func TestProxyRefusesTunnel(t *testing.T) {
	t.Run("407", func(t *testing.T) {
		leaks := goleak.IgnoreCurrent()
		px := newConnectProxy(t, "Basic secret")
		tr := ownHTTPClient().Transport.(*http.Transport)
		tr.Proxy = http.ProxyURL(px.url())
		opts := peerOptions()
		opts.HTTPClient = &http.Client{Transport: tr}
		h := start(t, "wss://venue.invalid/ws", opts, &sink{}, leaks)
		err := recvWait(t, h.runErr, "Run's return")
		require.ErrorIs(t, err, ErrPermanent)
		var he *HandshakeError
		require.ErrorAs(t, err, &he)
		require.Equal(t, http.StatusProxyAuthRequired, he.StatusCode)
		require.True(t, he.Proxy)
		require.EqualValues(t, 1, px.connects.Load())
		h.rec.waitFor(t, "permanent", func(ev Event) bool { return ev.State == schema.ConnDisconnected && ev.Reason == ReasonPermanent })
		h.runErr <- nil // finish wants Run's result
		h.finish(nil, px.close, tr.CloseIdleConnections)
	})
	t.Run("503 Retry-After", func(t *testing.T) {
		leaks := goleak.IgnoreCurrent()
		px := newConnectProxy(t, "")
		px.refuse = func(w http.ResponseWriter, n int) bool {
			if n > 1 {
				return false
			}
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		p := newRawPeer(t, steadyPeer)
		tr := ownHTTPClient().Transport.(*http.Transport)
		tr.Proxy = http.ProxyURL(px.url())
		opts := peerOptions()
		opts.HTTPClient = &http.Client{Transport: tr}
		// wss:// through the tunnel would need a certificate: the
		// transport tunnels https only, so the venue's address is given
		// as wss:// to a TLS-less peer the tunnel never reaches.
		h := start(t, "wss://"+p.ln.Addr().String()+"/ws", opts, &sink{}, leaks)
		re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
		var he *HandshakeError
		require.ErrorAs(t, re.Err, &he)
		require.True(t, he.Proxy)
		require.Equal(t, http.StatusServiceUnavailable, he.StatusCode)
		require.Equal(t, 7*time.Second, re.Delay)
		require.NotErrorIs(t, re.Err, ErrPermanent)
		require.Contains(t, he.Error(), "proxy tunnel refused with HTTP 503")
		h.finish(nil, p.close, px.close, tr.CloseIdleConnections)
	})
}

// A ws:// venue behind the proxy is reached through a CONNECT tunnel too
// (RFC 6455 §4.1; browsers do the same): net/http sent the handshake to
// the proxy as an absolute-form GET, which a CONNECT-only proxy refuses
// (here 403, which the client took for the venue's, permanent) and a
// forward proxy passes on without Upgrade. The proxy's credentials come
// from its URL; a host the proxy function exempts (NO_PROXY) is dialled
// direct; a redirect to wss:// goes through net/http's own tunnel.
func TestProxyTunnelsPlainWebSocket(t *testing.T) {
	for _, tc := range []struct {
		name   string
		exempt bool
	}{{"through the proxy", false}, {"NO_PROXY", true}} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p w"))
			px := newConnectProxy(t, auth)
			p := newRawPeer(t, steadyPeer)
			pu := px.url()
			pu.User = url.UserPassword("u", "p w")
			tr := ownHTTPClient().Transport.(*http.Transport)
			tr.Proxy = func(r *http.Request) (*url.URL, error) {
				if tc.exempt {
					return nil, nil
				}
				return pu, nil
			}
			opts := peerOptions()
			opts.HTTPClient = &http.Client{Transport: tr}
			h := start(t, p.url(), opts, &sink{}, leaks)
			h.sink.waitFor(t, `{"conn":1}`)
			require.Zero(t, px.others.Load(), "an absolute-form request reached the proxy")
			if tc.exempt {
				require.Zero(t, px.connects.Load())
			} else {
				require.EqualValues(t, 1, px.connects.Load())
			}
			h.finish(nil, p.close, px.close, tr.CloseIdleConnections)
		})
	}
	t.Run("https proxy", func(t *testing.T) {
		leaks := goleak.IgnoreCurrent()
		px := newTLSConnectProxy(t)
		p := newRawPeer(t, steadyPeer)
		tr := px.srv.Client().Transport.(*http.Transport).Clone() // trusts the proxy's certificate
		tr.Proxy = http.ProxyURL(px.url())
		tr.TLSClientConfig.NextProtos = []string{"h2", "http/1.1"} // as a host's HTTP/2 transport has them
		opts := peerOptions()
		opts.HTTPClient = &http.Client{Transport: tr}
		h := start(t, p.url(), opts, &sink{}, leaks)
		h.sink.waitFor(t, `{"conn":1}`)
		require.EqualValues(t, 1, px.connects.Load())
		h.finish(nil, p.close, px.close, tr.CloseIdleConnections)
	})
	t.Run("407", func(t *testing.T) {
		leaks := goleak.IgnoreCurrent()
		px := newConnectProxy(t, "Basic secret")
		p := newRawPeer(t, steadyPeer)
		tr := ownHTTPClient().Transport.(*http.Transport)
		tr.Proxy = http.ProxyURL(px.url())
		opts := peerOptions()
		opts.HTTPClient = &http.Client{Transport: tr}
		h := start(t, p.url(), opts, &sink{}, leaks)
		err := recvWait(t, h.runErr, "Run's return")
		var he *HandshakeError
		require.ErrorAs(t, err, &he)
		require.True(t, he.Proxy)
		require.Equal(t, http.StatusProxyAuthRequired, he.StatusCode)
		require.ErrorIs(t, err, ErrPermanent)
		require.Zero(t, p.n.Load())
		h.runErr <- nil
		h.finish(nil, p.close, px.close, tr.CloseIdleConnections)
	})
}

// A proxy that accepts the connection and never answers CONNECT: the
// dial ends at Options.DialTimeout on the Clock (ReasonDial, retried),
// and Close during such a dial returns with nothing left running.
func TestProxyNeverAnswersConnect(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	px := newConnectProxy(t, "")
	hang := make(chan struct{})
	px.refuse = func(http.ResponseWriter, int) bool { <-hang; return true }
	p := newRawPeer(t, steadyPeer)
	tr := ownHTTPClient().Transport.(*http.Transport)
	tr.Proxy = http.ProxyURL(px.url())
	fc := newFakeClock()
	fc.blockSlp = true
	opts := peerOptions()
	opts.HTTPClient = &http.Client{Transport: tr}
	opts.Clock = fc
	opts.DialTimeout = 5 * time.Second
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.clock = fc
	require.Eventually(t, func() bool { return px.connects.Load() == 1 }, wait, time.Millisecond)
	require.Eventually(t, func() bool { return fc.armedAt(fc.Now().Add(opts.DialTimeout)) }, wait, time.Millisecond)
	fc.advance(opts.DialTimeout)
	re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.Equal(t, ReasonDial, re.Reason)
	require.ErrorIs(t, re.Err, context.DeadlineExceeded)
	require.Eventually(t, func() bool { return len(fc.sleepingUntil()) == 1 }, wait, time.Millisecond)
	fc.advanceTo(fc.sleepingUntil()[0])
	require.Eventually(t, func() bool { return px.connects.Load() == 2 }, wait, time.Millisecond)
	h.finish(nil, func() { close(hang) }, p.close, px.close, tr.CloseIdleConnections)
}

// Behind the proxy, a ws:// venue that redirects to wss:// (a venue
// moving to TLS): the first request goes through the client's tunnel,
// the second through net/http's own (CONNECT, then TLS to the venue), not
// through a tunnel to the proxy inside the proxy's.
func TestProxyRedirectPlainToTLS(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	px := newConnectProxy(t, "")
	venue := httptest.NewTLSServer(helloVenue())
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "wss"+strings.TrimPrefix(venue.URL, "https")+"/ws", http.StatusMovedPermanently)
	}))
	tr := venue.Client().Transport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyURL(px.url())
	opts := peerOptions()
	opts.Subscriptions = nil
	opts.HTTPClient = &http.Client{Transport: tr}
	h := start(t, "ws"+strings.TrimPrefix(moved.URL, "http")+"/ws", opts, &sink{}, leaks)
	h.sink.waitFor(t, "hello")
	require.EqualValues(t, 2, px.connects.Load(), "both requests tunnelled once each")
	require.Zero(t, px.others.Load())
	h.finish(nil, venue.Close, moved.Close, px.close, tr.CloseIdleConnections)
}
