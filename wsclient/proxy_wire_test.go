package wsclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
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

// wireProxy is a CONNECT proxy on a raw listener whose answers the test
// writes byte for byte: the odd answers of real proxies that
// net/http's server never writes. answer writes the answer to CONNECT
// number n (from 1) and reports whether to tunnel after it.
type wireProxy struct {
	ln       net.Listener
	answer   func(c net.Conn, req *http.Request, n int) bool
	connects atomic.Int32
	done     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
	once     sync.Once
}

func newWireProxy(t *testing.T, answer func(c net.Conn, req *http.Request, n int) bool) *wireProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	px := &wireProxy{ln: ln, answer: answer, done: make(chan struct{})}
	px.wg.Add(1)
	go px.acceptLoop()
	t.Cleanup(px.close)
	return px
}

func (px *wireProxy) url() *url.URL { return &url.URL{Scheme: "http", Host: px.ln.Addr().String()} }

// track keeps c to be closed by close; false once closing.
func (px *wireProxy) track(c net.Conn) bool {
	px.mu.Lock()
	defer px.mu.Unlock()
	select {
	case <-px.done:
		_ = c.Close()
		return false
	default:
	}
	px.conns = append(px.conns, c)
	px.wg.Add(1)
	return true
}

func (px *wireProxy) acceptLoop() {
	defer px.wg.Done()
	for {
		c, err := px.ln.Accept()
		if err != nil {
			return
		}
		if px.track(c) {
			go px.serve(c)
		}
	}
}

func (px *wireProxy) serve(c net.Conn) {
	defer px.wg.Done()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		_ = c.Close()
		return
	}
	if !px.answer(c, req, int(px.connects.Add(1))) {
		return
	}
	up, err := net.Dial("tcp", req.Host)
	if err != nil {
		_ = c.Close()
		return
	}
	if !px.track(up) {
		_ = c.Close()
		return
	}
	go func() { defer px.wg.Done(); _, _ = io.Copy(c, up); _ = c.Close() }()
	_, _ = io.Copy(up, br)
	_ = up.Close()
}

func (px *wireProxy) close() {
	px.once.Do(func() {
		_ = px.ln.Close()
		px.mu.Lock()
		close(px.done)
		for _, c := range px.conns {
			_ = c.Close()
		}
		px.mu.Unlock()
	})
	px.wg.Wait()
}

// wireProxyClient is a client transport whose proxy is px.
func wireProxyClient(px *wireProxy) (*http.Client, *http.Transport) {
	tr := ownHTTPClient().Transport.(*http.Transport)
	tr.Proxy = http.ProxyURL(px.url())
	return &http.Client{Transport: tr}, tr
}

// A proxy's 200 to CONNECT that carries a Content-Length or a
// Transfer-Encoding: RFC 9110 §9.3.6 says a client MUST ignore both in a
// successful answer to CONNECT (what follows is the tunnel). The client
// read the answer's "body" out of the tunnel, which the venue does not
// speak into before the handshake: the dial hung until DialTimeout, every
// time. A proxy answering HTTP/1.0 is served too, and one that sends
// interim 1xx answers first (taken for its refusal, retried for ever).
func TestProxyConnectAnswerFraming(t *testing.T) {
	for _, tc := range []struct{ name, answer string }{
		{"Content-Length", "HTTP/1.1 200 Connection established\r\nContent-Length: 64\r\n\r\n"},
		{"chunked", "HTTP/1.1 200 Connection established\r\nTransfer-Encoding: chunked\r\n\r\n"},
		{"HTTP/1.0", "HTTP/1.0 200 Connection established\r\nProxy-Agent: old/1.0\r\n\r\n"},
		// RFC 9110 §15.2: a client MUST parse 1xx answers before the final one.
		{"1xx first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 Connection established\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			px := newWireProxy(t, func(c net.Conn, _ *http.Request, _ int) bool {
				_, err := io.WriteString(c, tc.answer)
				return err == nil
			})
			p := newRawPeer(t, steadyPeer)
			opts := peerOptions()
			var tr *http.Transport
			opts.HTTPClient, tr = wireProxyClient(px)
			h := start(t, p.url(), opts, &sink{}, leaks)
			h.sink.waitFor(t, `{"conn":1}`)
			require.EqualValues(t, 1, px.connects.Load())
			h.finish(nil, p.close, px.close, tr.CloseIdleConnections)
		})
	}
}

// A proxy's refusal whose body never ends (a chunked 407 whose last
// chunk never comes, a Content-Length larger than what is sent): the
// refusal is known from the status line and headers, and the tunnel is
// closed; the client drained the body first and so waited for
// DialTimeout (here never: the fake clock stands still) before it could
// say 407.
func TestProxyRefusalBodyNotDrained(t *testing.T) {
	for _, tc := range []struct{ name, answer string }{
		{"chunked", "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"},
		{"Content-Length", "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 1000000\r\n\r\nhello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			px := newWireProxy(t, func(c net.Conn, _ *http.Request, _ int) bool {
				_, _ = io.WriteString(c, tc.answer)
				return false // the connection stays open, the body unfinished
			})
			p := newRawPeer(t, steadyPeer)
			opts := peerOptions()
			var tr *http.Transport
			opts.HTTPClient, tr = wireProxyClient(px)
			h := start(t, p.url(), opts, &sink{}, leaks)
			err := recvWait(t, h.runErr, "Run's return")
			var he *HandshakeError
			require.ErrorAs(t, err, &he)
			require.True(t, he.Proxy)
			require.Equal(t, http.StatusProxyAuthRequired, he.StatusCode)
			require.ErrorIs(t, err, ErrPermanent)
			h.runErr <- nil
			h.finish(nil, p.close, px.close, tr.CloseIdleConnections)
		})
	}
}

// A proxy whose answer's header never ends (a header line streamed
// without end): the client read it all into memory, as much as the proxy
// sent until DialTimeout. net/http bounds its own CONNECT answers by the
// transport's MaxResponseHeaderBytes; so does the client's tunnel: the
// dial fails (retried) once the bound is passed.
func TestProxyAnswerHeaderBounded(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	px := newWireProxy(t, func(c net.Conn, _ *http.Request, _ int) bool {
		if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\nX-Pad: "); err != nil {
			return false
		}
		chunk := strings.Repeat("a", 4096)
		for { // until the client stops reading and closes
			if _, err := io.WriteString(c, chunk); err != nil {
				return false
			}
		}
	})
	p := newRawPeer(t, steadyPeer)
	opts := peerOptions()
	var tr *http.Transport
	opts.HTTPClient, tr = wireProxyClient(px)
	tr.MaxResponseHeaderBytes = 64 << 10
	h := start(t, p.url(), opts, &sink{}, leaks)
	re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.Equal(t, ReasonDial, re.Reason)
	require.Zero(t, p.n.Load())
	h.finish(nil, p.close, px.close, tr.CloseIdleConnections)
}

// A host transport that dials through its deprecated Dial (a SOCKS
// dialer from golang.org/x/net/proxy is often plugged in there, or a
// dialer bound to one interface) keeps it when a proxy is set: the
// client's tunnel wrapper set DialContext, which net/http prefers, and
// dialled with a plain net.Dialer, bypassing the host's Dial for every
// connection, the tunnel's and the direct ones (NO_PROXY) alike.
func TestProxyKeepsHostDial(t *testing.T) {
	for _, tc := range []struct {
		name   string
		exempt bool
	}{{"through the proxy", false}, {"NO_PROXY", true}} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			px := newWireProxy(t, func(c net.Conn, _ *http.Request, _ int) bool {
				_, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				return err == nil
			})
			p := newRawPeer(t, steadyPeer)
			opts := peerOptions()
			var tr *http.Transport
			opts.HTTPClient, tr = wireProxyClient(px)
			tr.DialContext = nil
			var dials atomic.Int32
			tr.Dial = func(network, addr string) (net.Conn, error) { //nolint:staticcheck // the deprecated hook is the point
				dials.Add(1)
				return net.Dial(network, addr)
			}
			if tc.exempt {
				tr.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
			}
			h := start(t, p.url(), opts, &sink{}, leaks)
			h.sink.waitFor(t, `{"conn":1}`)
			require.EqualValues(t, 1, dials.Load(), "the host's Dial")
			h.finish(nil, p.close, px.close, tr.CloseIdleConnections)
		})
	}
}

// The proxy's credentials (the password of its URL, the
// Proxy-Authorization made of it) appear in no event, error or log line,
// whatever the failure: a proxy that is down, one that refuses the
// tunnel, one that asks for other credentials, for ws:// (the client's
// tunnel) and wss:// (net/http's).
func TestProxyCredentialsNotPrinted(t *testing.T) {
	const pw = "s3cret-pw"
	basic := base64.StdEncoding.EncodeToString([]byte("u:" + pw))
	down, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	downAddr := down.Addr().String()
	require.NoError(t, down.Close())
	for _, proxy := range []string{"down", "502", "407"} {
		for _, scheme := range []string{"ws", "wss"} {
			t.Run(proxy+" "+scheme, func(t *testing.T) {
				leaks := goleak.IgnoreCurrent()
				px := newWireProxy(t, func(c net.Conn, _ *http.Request, _ int) bool {
					if proxy == "407" {
						_, _ = io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n")
					} else {
						_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
					}
					return false
				})
				pu := px.url()
				if proxy == "down" {
					pu.Host = downAddr
				}
				pu.User = url.UserPassword("u", pw)
				var logs bytes.Buffer
				var mu sync.Mutex
				opts := peerOptions()
				var tr *http.Transport
				opts.HTTPClient, tr = wireProxyClient(px)
				tr.Proxy = http.ProxyURL(pu)
				opts.Logger = slog.New(slog.NewTextHandler(lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
				h := start(t, scheme+"://venue.invalid/ws", opts, &sink{}, leaks)
				var ev Event
				if proxy == "407" {
					ev = h.rec.waitFor(t, "permanent", func(ev Event) bool { return ev.Reason == ReasonPermanent })
					require.ErrorIs(t, recvWait(t, h.runErr, "Run's return"), ErrPermanent)
					h.runErr <- nil
				} else {
					ev = h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
				}
				require.Error(t, ev.Err)
				h.finish(nil, px.close, tr.CloseIdleConnections)
				mu.Lock()
				defer mu.Unlock()
				for _, ev := range h.rec.all() {
					s := fmt.Sprintf("%v %+v", ev, ev)
					if ev.Err != nil {
						s += ev.Err.Error()
					}
					require.NotContains(t, s, pw)
					require.NotContains(t, s, basic)
				}
				require.NotEmpty(t, logs.String())
				require.NotContains(t, logs.String(), pw)
				require.NotContains(t, logs.String(), basic)
			})
		}
	}
}

// A Proxy-Authorization in Options.HTTPHeader (how a request reaches an
// authenticating forward proxy with net/http) is the proxy's: it goes
// with the CONNECT that opens the tunnel, never to the venue. Since ws://
// venues are tunnelled, the header went inside the tunnel to the venue,
// the proxy credentials with it (wss:// sent it to the venue through
// net/http's tunnel all along).
func TestProxyAuthorizationHeaderGoesToProxy(t *testing.T) {
	for _, scheme := range []string{"ws", "wss"} {
		t.Run(scheme, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			connectAuth := make(chan string, 4)
			px := newWireProxy(t, func(c net.Conn, req *http.Request, _ int) bool {
				connectAuth <- req.Header.Get("Proxy-Authorization")
				_, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				return err == nil
			})
			venueSaw := make(chan http.Header, 4)
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				venueSaw <- r.Header.Clone()
				helloVenue().ServeHTTP(w, r)
			})
			var srv *httptest.Server
			var tr *http.Transport
			if scheme == "wss" {
				srv = httptest.NewTLSServer(handler)
				tr = srv.Client().Transport.(*http.Transport).Clone()
			} else {
				srv = httptest.NewServer(handler)
				tr = ownHTTPClient().Transport.(*http.Transport)
			}
			tr.Proxy = http.ProxyURL(px.url())
			opts := peerOptions()
			opts.Subscriptions = nil
			opts.HTTPClient = &http.Client{Transport: tr}
			opts.HTTPHeader = http.Header{"proxy-authorization": {"Basic cHg6cHc="}, "X-Api-Key": {"k"}}
			u := scheme + strings.TrimPrefix(strings.TrimPrefix(srv.URL, "https"), "http") + "/ws"
			h := start(t, u, opts, &sink{}, leaks)
			h.sink.waitFor(t, "hello")
			require.Equal(t, "Basic cHg6cHc=", recvWait(t, connectAuth, "CONNECT"))
			hd := recvWait(t, venueSaw, "the venue's request")
			require.Equal(t, "k", hd.Get("X-Api-Key"))
			require.Empty(t, hd.Values("Proxy-Authorization"))
			h.finish(nil, srv.Close, px.close, tr.CloseIdleConnections)
		})
	}
}

// An https:// proxy that accepts the connection and never answers the
// TLS handshake: Options.DialTimeout (on the Clock) ends the dial, the
// connection to the proxy closed, and Close during the next such
// handshake returns with nothing left running.
func TestProxyTLSHandshakeBounded(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newSilentTLSVenue(t)
	defer v.stop()
	p := newRawPeer(t, steadyPeer)
	tr := ownHTTPClient().Transport.(*http.Transport)
	tr.Proxy = http.ProxyURL(&url.URL{Scheme: "https", Host: v.ln.Addr().String()})
	fc := newFakeClock()
	fc.blockSlp = true
	opts := peerOptions()
	opts.HTTPClient = &http.Client{Transport: tr}
	opts.Clock = fc
	opts.DialTimeout = 5 * time.Second
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.clock = fc
	require.Eventually(t, func() bool { return v.conns.Load() == 1 }, wait, time.Millisecond)
	require.Eventually(t, func() bool { return fc.armedAt(fc.Now().Add(opts.DialTimeout)) }, wait, time.Millisecond)
	fc.advance(opts.DialTimeout)
	re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.Equal(t, ReasonDial, re.Reason)
	require.ErrorIs(t, re.Err, context.DeadlineExceeded)
	require.Eventually(t, func() bool { return v.gone.Load() == 1 }, wait, time.Millisecond, "the connection to the proxy closed")
	require.Eventually(t, func() bool { return len(fc.sleepingUntil()) == 1 }, wait, time.Millisecond)
	fc.advanceTo(fc.sleepingUntil()[0])
	require.Eventually(t, func() bool { return v.conns.Load() == 2 }, wait, time.Millisecond)
	h.finish(nil, v.stop, p.close, tr.CloseIdleConnections)
	require.Zero(t, p.n.Load())
}

// An https:// proxy is reached through the host transport's
// DialTLSContext when it has one, as net/http reaches one (a host that
// pins the proxy's certificate or dials TLS its own way there): the
// tunnel dialled and made its own TLS connection, bypassing it.
func TestProxyKeepsHostDialTLS(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	px := newTLSConnectProxy(t)
	p := newRawPeer(t, steadyPeer)
	tr := px.srv.Client().Transport.(*http.Transport).Clone() // trusts the proxy's certificate
	tr.Proxy = http.ProxyURL(px.url())
	conf := tr.TLSClientConfig.Clone()
	conf.NextProtos = nil
	var dials atomic.Int32
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&tls.Dialer{Config: conf}).DialContext(ctx, network, addr)
	}
	opts := peerOptions()
	opts.HTTPClient = &http.Client{Transport: tr}
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	require.EqualValues(t, 1, px.connects.Load())
	require.EqualValues(t, 1, dials.Load(), "the host's DialTLSContext")
	h.finish(nil, p.close, px.close, tr.CloseIdleConnections)
}
