package wsclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
)

// HTTP proxies (RFC 6455 §4.1, step 2: a client configured to use a
// proxy "SHOULD connect to that proxy and ask it to open a TCP
// connection" to the venue, i.e. CONNECT). net/http tunnels https://
// requests with CONNECT, but sends an http:// request, and so a ws://
// handshake, to the proxy as an absolute-form GET, which a forward proxy
// passes on without the hop-by-hop Upgrade and Connection headers, if at
// all: behind a corporate proxy a ws:// venue was never reached (the
// proxy's refusal even looked like the venue's 403, permanent). Browsers
// tunnel ws:// as RFC 6455 asks; so does the client, through the
// transport's own Proxy (HTTP_PROXY, NO_PROXY), dialer and TLS settings.

// proxied returns a clone of t whose proxy tunnels ws:// handshakes too,
// and whose refused tunnels are *HandshakeErrors (see tunnelRefused).
// proxyAuth, a Proxy-Authorization the host put in Options.HTTPHeader
// (how a request reaches an authenticating forward proxy with net/http),
// goes with the CONNECT (ProxyConnectHeader) unless the transport has
// one there or a GetProxyConnectHeader: inside the tunnel it would reach
// the venue. The proxy URL's credentials take precedence, as in net/http.
func proxied(t *http.Transport, clk Clock, proxyAuth string) *http.Transport {
	t = t.Clone()
	if proxyAuth != "" && t.GetProxyConnectHeader == nil && t.ProxyConnectHeader.Get("Proxy-Authorization") == "" {
		t.ProxyConnectHeader = t.ProxyConnectHeader.Clone()
		if t.ProxyConnectHeader == nil {
			t.ProxyConnectHeader = http.Header{}
		}
		t.ProxyConnectHeader.Set("Proxy-Authorization", proxyAuth)
	}
	refused := tunnelRefused(t.OnProxyConnectResponse, clk)
	t.OnProxyConnectResponse = refused
	proxy := t.Proxy
	if proxy == nil {
		return t
	}
	// A ws:// dial carries a rawSlot (see dial): its proxy, when it has
	// an HTTP one, is noted there and net/http told to go direct; the
	// dialer then opens the tunnel. Other requests are left alone.
	t.Proxy = func(req *http.Request) (*url.URL, error) {
		p, err := proxy(req)
		s, ok := req.Context().Value(rawKey{}).(*rawSlot)
		if !ok {
			return p, err
		}
		// Set for every request of the dial, redirects included: a wss://
		// one goes through net/http's own tunnel, and a SOCKS proxy
		// tunnels anything already.
		var tun *url.URL
		if err == nil && p != nil && req.URL.Scheme == "http" && (p.Scheme == "http" || p.Scheme == "https") {
			tun, p = p, nil
		}
		s.mu.Lock()
		s.tunnel = tun
		s.mu.Unlock()
		return p, err
	}
	// net/http's choice of dialer: DialContext, else the deprecated Dial
	// (where hosts plug a SOCKS or interface-bound dialer), else package
	// net. Setting DialContext below would otherwise bypass the host's Dial.
	dial := t.DialContext
	if hostDial := t.Dial; dial == nil && hostDial != nil { //nolint:staticcheck // the host's deprecated hook is kept, as net/http keeps it
		dial = func(_ context.Context, network, addr string) (net.Conn, error) { return hostDial(network, addr) }
	}
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	// An https:// proxy is reached as net/http reaches one: through the
	// host's DialTLSContext (or DialTLS) when it has one, else dial and a
	// TLS handshake with the transport's tls.Config.
	dialTLS := t.DialTLSContext
	if hostDialTLS := t.DialTLS; dialTLS == nil && hostDialTLS != nil { //nolint:staticcheck // as net/http keeps it
		dialTLS = func(_ context.Context, network, addr string) (net.Conn, error) { return hostDialTLS(network, addr) }
	}
	if dialTLS == nil {
		dialTLS = tlsDialer(dial, t.TLSClientConfig)
	}
	maxHeader := t.MaxResponseHeaderBytes
	if maxHeader <= 0 {
		maxHeader = defaultMaxHeader
	}
	header := func(ctx context.Context, p *url.URL, addr string) (http.Header, error) {
		if t.GetProxyConnectHeader != nil {
			return t.GetProxyConnectHeader(ctx, p, addr)
		}
		return t.ProxyConnectHeader, nil
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		s, ok := ctx.Value(rawKey{}).(*rawSlot)
		var p *url.URL
		if ok {
			s.mu.Lock()
			p = s.tunnel
			s.mu.Unlock()
		}
		if p == nil {
			return dial(ctx, network, addr)
		}
		// The exchange with the proxy ends with the dial that asked for
		// it. net/http gives dials a ctx detached from the request's end
		// (a dial may serve a later request), and bounds its own CONNECT
		// and TLS handshakes by timeouts of its own; the tunnel has none:
		// a proxy silent in the TLS handshake or before its answer kept
		// the connection, and net/http's goroutine, after every dial that
		// timed out.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(s.dial, cancel)()
		return tunnel(ctx, dial, dialTLS, network, addr, p, maxHeader, header, refused)
	}
	return t
}

// defaultMaxHeader bounds a proxy's answer to CONNECT when the transport's
// MaxResponseHeaderBytes is not set: net/http's own default.
const defaultMaxHeader = 10 << 20

// max1xx is how many interim answers to CONNECT are skipped: net/http's
// limit for its own requests.
const max1xx = 5

// tunnel dials proxy p and asks it with CONNECT for a TCP connection to
// addr, as net/http does for https:// (its Proxy-Authorization from p's
// user info, the transport's ProxyConnectHeader or GetProxyConnectHeader);
// an answer other than 200 is refused's error. ctx ending closes the connection under the exchange.
func tunnel(ctx context.Context, dial, dialTLS func(context.Context, string, string) (net.Conn, error), network, addr string,
	p *url.URL, maxHeader int64, header func(context.Context, *url.URL, string) (http.Header, error),
	refused func(context.Context, *url.URL, *http.Request, *http.Response) error,
) (_ net.Conn, err error) {
	port := p.Port()
	if port == "" {
		port = "80"
		if p.Scheme == "https" {
			port = "443"
		}
	}
	if p.Scheme == "https" {
		dial = dialTLS
	}
	c, err := dial(ctx, network, net.JoinHostPort(p.Hostname(), port))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = c.Close()
		}
	}()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer func() {
		if !stop() && err == nil {
			err = ctx.Err()
		}
	}()
	h, err := header(ctx, p, addr)
	if err != nil {
		return nil, err
	}
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: addr},
		Host:   addr,
		Header: h.Clone(),
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if u := p.User; u != nil {
		pw, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	if err := req.Write(c); err != nil {
		return nil, err
	}
	// The answer is read within maxHeader bytes, as net/http reads its
	// own (MaxResponseHeaderBytes): a proxy streaming a header without
	// end would otherwise fill memory until DialTimeout.
	br := bufio.NewReader(&io.LimitedReader{R: c, N: maxHeader})
	var res *http.Response
	// Interim 1xx answers come before the final one (RFC 9110 §15.2: a
	// client MUST parse them); a few at most, as net/http takes.
	for range max1xx + 1 {
		if res, err = http.ReadResponse(br, req); err != nil {
			return nil, err
		}
		if res.StatusCode < 100 || res.StatusCode > 199 || res.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	// The body is left unread. A refusal is known from its status and the
	// connection is closed, so a body that never ends (a chunked 407
	// without its last chunk) costs nothing; and a 200's framing headers
	// are ignored (RFC 9110 §9.3.6: a client MUST ignore Content-Length
	// and Transfer-Encoding in a successful answer to CONNECT): what
	// follows it is the tunnel, which the venue does not speak into
	// before the handshake, so reading a "body" there waited out
	// DialTimeout.
	if err := refused(ctx, p, req, res); err != nil {
		return nil, err
	}
	if br.Buffered() > 0 {
		// The venue speaks only once asked (the upgrade request), so a
		// proxy sends nothing after its 200: anything else is not a
		// tunnel this client can use.
		return nil, errors.New("wsclient: the proxy sent data after its answer to CONNECT")
	}
	return c, nil
}

// tlsDialer dials with dial and makes a TLS connection over it, with conf
// (the transport's TLSClientConfig) and the server name of the address
// unless conf has one, as net/http reaches an https:// proxy; it offers
// HTTP/1.1 only: CONNECT is HTTP/1.1, and a proxy that speaks HTTP/2
// picked h2 when the host's config offered it.
func tlsDialer(dial func(context.Context, string, string) (net.Conn, error), tlsConf *tls.Config) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		conf := &tls.Config{}
		if tlsConf != nil {
			conf = tlsConf.Clone()
		}
		if conf.ServerName == "" {
			conf.ServerName, _, _ = net.SplitHostPort(addr)
		}
		conf.NextProtos = nil
		tc := tls.Client(c, conf)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = c.Close()
			return nil, err
		}
		return tc, nil
	}
}

// tunnelRefused wraps the host's OnProxyConnectResponse: a proxy's answer
// to CONNECT other than 200 becomes a *HandshakeError with Proxy set, its
// status and Retry-After. net/http reports it as a bare error naming the
// status text only, which would be retried as a lost dial: a 407 (wrong
// credentials) every BackoffCap, forever.
func tunnelRefused(host func(context.Context, *url.URL, *http.Request, *http.Response) error, clk Clock) func(context.Context, *url.URL, *http.Request, *http.Response) error {
	return func(ctx context.Context, proxy *url.URL, req *http.Request, res *http.Response) error {
		if host != nil {
			if err := host(ctx, proxy, req, res); err != nil {
				return err
			}
		}
		if res.StatusCode == http.StatusOK {
			return nil
		}
		return &HandshakeError{
			StatusCode: res.StatusCode,
			RetryAfter: RetryAfterHeader(res.Header, clk.Now()),
			Proxy:      true,
			Err:        fmt.Errorf("proxy %s answered CONNECT with %q", proxy.Host, res.Status),
		}
	}
}
