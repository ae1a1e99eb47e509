package wsclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/coder/websocket"
)

// The close handshake (RFC 6455 §7.1.2, §5.5.1). Ending a connection we
// chose to end (Close, the end of Run's context, a rotation's retired or
// abandoned connection) sends a close frame with 1000 and waits for the
// venue's answer, so that the venue sees a normal closure instead of 1006.
//
// coder/websocket's Conn.Close does the handshake, but waits for the
// peer's answer, and then for the peer to end TCP, up to 5 s each on the
// wall clock; and once it has begun, CloseNow no longer cuts it short (both
// share one "closing" flag). The client therefore bounds the handshake on
// its Clock with Options.CloseTimeout and, when that passes, closes the
// socket under coder/websocket: the handshake's pending read or write then
// fails at once and Conn.Close returns. The socket is the body of the
// handshake's 101 response, which coder/websocket takes from the response
// and keeps; dialClient's transport hands it to the dial on its way.

// rawKey is the context key of the dial's *rawSlot.
type rawKey struct{}

// rawSlot receives the socket of a dial's 101 response. It also carries
// the proxy a ws:// dial is to be tunnelled through (see proxied).
type rawSlot struct {
	mu     sync.Mutex
	c      io.Closer
	tunnel *url.URL
	// dial is the ctx of the dial (Options.DialTimeout, Close): net/http
	// detaches the ctx its dials get from the request's end, so that a
	// dial may serve a later request.
	dial context.Context
}

func (s *rawSlot) set(c io.Closer) {
	s.mu.Lock()
	s.c = c
	s.mu.Unlock()
}

func (s *rawSlot) get() io.Closer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c
}

// rawTracker wraps the handshake's RoundTripper: it passes every request
// through, puts a frameGuard over the socket of a 101 answer (the body
// coder/websocket reads and writes the connection through) and gives that
// socket to the dial that asked.
type rawTracker struct{ rt http.RoundTripper }

// RoundTrip passes req on. The body of an answer other than 101 (a
// refusal, a redirect) is closed unread:
// coder/websocket reads up to 1 KiB of a refusal's body "for easier
// debugging", bounded by a timer of 3 s on the wall clock, and net/http up
// to 2 KiB of a redirect's, bounded by the dial's ctx alone; a venue or
// proxy that answers 503 or 302 and then trickles its body, or sends none
// of the length it announced, held the dial that long (on a host's fake
// Clock, a redirect's for ever), and the client reports neither.
// Likewise a dial's 101 socket is sealed (frameGuard.open): coder/websocket
// reads it the same way when it refuses the answer (a wrong
// Sec-WebSocket-Accept, a subprotocol not offered), and a peer that then
// sent nothing held the dial 3 s, past DialTimeout and the Clock.
func (t rawTracker) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(req)
	switch {
	case err != nil:
	case resp.StatusCode != http.StatusSwitchingProtocols:
		if resp.Body != nil {
			_ = resp.Body.Close()
		}
		resp.Body = http.NoBody
	default:
		s, dialing := req.Context().Value(rawKey{}).(*rawSlot)
		if rwc, ok := resp.Body.(io.ReadWriteCloser); ok {
			g := &frameGuard{rwc: rwc}
			if dialing {
				g.err = errSealed // the dial opens it
			}
			resp.Body = g
		}
		if c, ok := resp.Body.(io.Closer); ok && dialing {
			s.set(c)
		}
	}
	return resp, err
}

// CloseIdleConnections passes http.Client.CloseIdleConnections on.
func (t rawTracker) CloseIdleConnections() {
	if ci, ok := t.rt.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// dialClient is a shallow copy of the host's HTTP client whose transport
// hands each dial its socket (see rawTracker) and which refuses a
// redirect from TLS to clear text and drops the host's credentials on a
// redirect to another host (see noDowngrade). An *http.Transport
// is cloned (see proxied), so that a ws:// venue behind a proxy is
// tunnelled too, a proxy's refusal of the tunnel is told apart, and
// closing idle connections touches only the client's own. Everything else
// (TLS, proxy, the host's own redirect policy, cookies) is the host's
// client's own.
func dialClient(hc *http.Client, clk Clock, header http.Header, proxyAuth string) *http.Client {
	dc := *hc
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	if t, ok := rt.(*http.Transport); ok {
		rt = proxied(t, clk, proxyAuth)
	}
	dc.Transport = rawTracker{rt: rt}
	dc.CheckRedirect = noDowngrade(hc.CheckRedirect, header)
	return &dc
}

// maxRedirects is net/http's default limit, which a CheckRedirect of our
// own must keep when the host gave none.
const maxRedirects = 10

// noDowngrade wraps the host's redirect policy (net/http's default when
// nil): a redirect to http:// after an https:// request is refused with
// ErrInsecureRedirect, and one that leaves the first request's host (and
// its subdomains), or left it at an earlier hop (see leftSite), goes
// without the host's headers (header) but those known to carry no
// credentials (see dropCredentials). coder/websocket has
// turned ws and wss into http and https by the time it is called.
func noDowngrade(host func(*http.Request, []*http.Request) error, header http.Header) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme == "http" {
			for _, r := range via {
				if r.URL.Scheme == "https" {
					return fmt.Errorf("%w: to %s", ErrInsecureRedirect, req.URL.Host)
				}
			}
		}
		if len(via) > 0 && leftSite(req, via) {
			dropCredentials(req.Header, header)
		}
		if host != nil {
			return host(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("wsclient: stopped after %d redirects", maxRedirects)
		}
		return nil
	}
}

// dropCredentials deletes from h, a redirected handshake's headers, those
// the host set in sent (Options.HTTPHeader) but User-Agent, Origin and the
// Accept ones. net/http drops Authorization and Cookie on a redirect to
// another host and passes every other header on, and the credentials a
// venue reads in the handshake are mostly headers of its own (BitMEX's
// api-key and api-signature, a gateway's X-Api-Key): RFC 9110 §15.4 asks a
// client to drop what it does not know to be meant for the new host.
func dropCredentials(h, sent http.Header) {
	for k := range sent {
		switch http.CanonicalHeaderKey(k) {
		case "User-Agent", "Origin", "Accept", "Accept-Language", "Accept-Encoding":
			continue
		}
		for hk := range h {
			if strings.EqualFold(hk, k) && !wsHeader(hk) {
				delete(h, hk)
			}
		}
	}
}

// wsHeader reports whether k is one of the handshake's own headers, which
// coder/websocket sets over any the host gave.
func wsHeader(k string) bool {
	return handshakeOwn(k) || strings.EqualFold(k, "Sec-WebSocket-Protocol")
}

// sameSite is net/http's rule for keeping Authorization on a redirect
// (shouldCopyHeaderOnRedirect): host to is from (hostnames, any case) or
// a subdomain of it; an IP address matches only itself.
func sameSite(to, from string) bool {
	to, from = strings.ToLower(to), strings.ToLower(from)
	if to == from {
		return true
	}
	if strings.ContainsAny(to, ":%") || !strings.HasSuffix(to, from) {
		return false
	}
	return to[len(to)-len(from)-1] == '.'
}

// leftSite reports whether the redirect chain, req the next hop, has
// left the first request's host (see sameSite) at any hop. It is sticky
// as net/http's stripping of Authorization is: a hop back to the first
// host after a foreign one is a request the foreign host shaped (its path
// and query), which must not carry the credentials either.
func leftSite(req *http.Request, via []*http.Request) bool {
	first := via[0].URL.Hostname()
	if !sameSite(req.URL.Hostname(), first) {
		return true
	}
	for _, r := range via[1:] {
		if !sameSite(r.URL.Hostname(), first) {
			return true
		}
	}
	return false
}

// withRawSlot returns ctx carrying a slot for the dial's socket.
func withRawSlot(ctx context.Context) (context.Context, *rawSlot) {
	s := &rawSlot{dial: ctx}
	return context.WithValue(ctx, rawKey{}, s), s
}

// graceful reports whether ending a connection for r deserves a close
// handshake: we chose to end it, and it still works as far as we know.
// A connection lost to a fault is cut at once (its venue is silent or
// broken: waiting for an answer only delays the redial).
func graceful(r Reason) bool { return r == ReasonClosed || r == ReasonRotation }

// closeHandshake sends a close frame with 1000 and waits, up to
// Options.CloseTimeout on the Clock or the end of Close's ctx, for
// coder/websocket to see the venue's answer; then it cuts the socket. Meanwhile the reader
// drops whatever still arrives (modeRetired), but for a rotation's old
// connection's answers (modeReplaced). The caller has marked the
// connection dead.
func (cn *conn) closeHandshake(bound Timer) {
	c := cn.c
	c.deliverMu.Lock()
	if cn.mode.Load() != modeReplaced {
		cn.mode.Store(modeRetired)
	}
	c.deliverMu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			// coder/websocket's Close reads the venue's answer itself
			// when the reader is in the handler: a panic there (see
			// ErrReadPanic) must not end the host's program. The
			// connection is retired; its socket is cut.
			if recover() != nil {
				cn.cut()
			}
		}()
		_ = cn.ws.Close(websocket.StatusNormalClosure, "")
	}()
	if !cn.awaitBound(done, bound) {
		cn.cut()
	}
	<-done
}

// closeBound arms the bound of a close handshake, CloseTimeout on the
// Clock: nil when CloseTimeout is negative (no wait). Whoever arms it
// stops it (awaitBound does).
func (c *Client) closeBound() Timer {
	if c.opts.CloseTimeout < 0 {
		return nil
	}
	return c.opts.Clock.NewTimer(c.opts.CloseTimeout)
}

// awaitBound waits for done until t fires (t is closeBound's: not at all
// when it is nil) and no longer than the ctx of Close lasts; it stops t.
// It reports whether done came first.
func (cn *conn) awaitBound(done <-chan struct{}, t Timer) bool {
	c := cn.c
	if t == nil {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	defer t.Stop()
	// The ctx of Close, which may not wait as long: Close stores it
	// before it ends life, so a wait begun before Close looks for it then.
	life := c.life.Done()
	var hurry <-chan struct{}
	for {
		select {
		case <-done:
			return true
		case <-t.C():
			return false
		case <-hurry:
			return false
		case <-life:
			life = nil
			if ctx := c.closeCtx.Load(); ctx != nil {
				hurry = (*ctx).Done()
			}
		}
	}
}

// cut closes the socket under coder/websocket: every read and write on it,
// a close handshake's included, fails at once.
func (cn *conn) cut() {
	if raw := cn.raw.get(); raw != nil {
		_ = raw.Close()
		return
	}
	_ = cn.ws.CloseNow()
}

// cutWhenEnded cuts cn's socket once its context has ended and the close
// handshake's bound (awaitBound) has passed, unless the returned function
// is called first; that function waits for the watch to stop. It guards
// the client's own writes made outside the connection's goroutines (the
// subscriptions, written by the goroutine that would tear the connection
// down): they carry no ending context (see noCancel), and one that the
// venue does not read blocks until the socket closes.
func (cn *conn) cutWhenEnded() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-done:
		case <-cn.ctx.Done():
			if !cn.awaitBound(done, cn.c.closeBound()) {
				cn.cut()
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
