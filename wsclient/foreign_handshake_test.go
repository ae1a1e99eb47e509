package wsclient

import (
	"fmt"
	"io"
	"net"
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

// Handshake faults of peers and proxies nobody here wrote: what the
// client does with an answer that is not a plain 101.

// answer101 writes a correct 101 for key.
func answer101(w io.Writer, key string) bool {
	_, err := io.WriteString(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+acceptKey(key)+"\r\n\r\n")
	return err == nil
}

// A Retry-After given as an HTTP date is read against the server's clock
// (the answer's Date header, RFC 9110 §6.6.1: an origin server with a
// clock MUST send it), not the host's: a host clock an hour behind the
// venue's waited an hour more than asked, and one an hour ahead took the
// date for past and redialled at once, into the same refusal. Timestamps
// "require a clock synchronization protocol" (wso2/carbon-apimgt#7059,
// on Retry-After dates); reading the date against the response's Date is
// the fix suggested in xorbitsai/xllamacpp#155's review. Without a Date
// header the host's clock is all there is.
func TestRetryAfterDateAgainstServerDate(t *testing.T) {
	for _, tc := range []struct {
		name string
		skew time.Duration // server clock minus the client's
		date bool          // the answer carries Date
		want time.Duration
	}{
		{"server ahead an hour", time.Hour, true, 2 * time.Minute},
		{"server behind an hour", -time.Hour, true, 2 * time.Minute},
		{"same clock", 0, true, 2 * time.Minute},
		{"no Date header", 0, false, 2 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			fc := newFakeClock()
			p := newRawPeer(t, steadyPeer)
			p.answer = func(w io.Writer, n int, key string) bool {
				if n > 1 {
					return answer101(w, key)
				}
				server := fc.Now().Add(tc.skew)
				hdr := "Retry-After: " + server.Add(2*time.Minute).UTC().Format(http.TimeFormat) + "\r\n"
				if tc.date {
					hdr += "Date: " + server.UTC().Format(http.TimeFormat) + "\r\n"
				}
				_, _ = io.WriteString(w, "HTTP/1.1 503 Service Unavailable\r\n"+hdr+"Content-Length: 0\r\nConnection: close\r\n\r\n")
				return false
			}
			opts := peerOptions()
			opts.Clock = fc
			h := start(t, p.url(), opts, &sink{}, leaks)
			h.clock = fc
			re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
			var he *HandshakeError
			require.ErrorAs(t, re.Err, &he)
			require.Equal(t, http.StatusServiceUnavailable, he.StatusCode)
			require.Equal(t, tc.want, he.RetryAfter)
			require.Equal(t, tc.want, re.Delay)
			h.rec.waitFor(t, "connected", connected(1))
			h.finish(nil, p.close)
		})
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	date := func(t time.Time) string { return t.Format(http.TimeFormat) }
	for _, tc := range []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"none", http.Header{}, 0},
		{"seconds", http.Header{"Retry-After": {"30"}, "Date": {date(now.Add(-time.Hour))}}, 30 * time.Second},
		{"date, no Date", http.Header{"Retry-After": {date(now.Add(time.Minute))}}, time.Minute},
		{"date against Date", http.Header{"Retry-After": {date(now.Add(3 * time.Hour))}, "Date": {date(now.Add(2 * time.Hour))}}, time.Hour},
		{"date before Date", http.Header{"Retry-After": {date(now)}, "Date": {date(now.Add(time.Minute))}}, 0},
		{"bad Date", http.Header{"Retry-After": {date(now.Add(time.Minute))}, "Date": {"yesterday"}}, time.Minute},
		{"capped", http.Header{"Retry-After": {date(now.AddDate(5, 0, 0))}, "Date": {date(now)}}, 365 * 24 * time.Hour},
	} {
		require.Equal(t, tc.want, RetryAfterHeader(tc.h, now), tc.name)
	}
}

// The host's Host header (Options.HTTPHeader) is sent: a venue reached by
// address, or through a gateway that routes by virtual host, needs it.
// net/http ignores a "Host" in a request's Header (it sends the URL's),
// so the client passes it as coder/websocket's DialOptions.Host.
// Origin and User-Agent go as given. The key is matched in any case: a
// map literal keeps it as written, which Header.Get misses.
func TestHandshakeHostHeader(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	type seen struct{ host, ua, origin string }
	got := make(chan seen, 4)
	v := newVenueAccept(t, &websocket.AcceptOptions{OriginPatterns: []string{"venue.example"}}, func(s *session) { s.readForever(); <-s.ctx.Done() })
	inner := v.srv.Config.Handler
	v.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Host, r.UserAgent(), r.Header.Get("Origin")}
		inner.ServeHTTP(w, r)
	})
	opts := peerOptions()
	opts.HTTPHeader = http.Header{
		"host":       {"stream.venue.example"},
		"User-Agent": {"meltica-test/1"},
		"Origin":     {"https://venue.example"},
	}
	h := start(t, v.url(), opts, &sink{}, leaks)
	require.Equal(t, seen{"stream.venue.example", "meltica-test/1", "https://venue.example"}, recvWait(t, got, "handshake"))
	h.rec.waitFor(t, "connected", connected(1))
	h.finish(v)
}

// A venue that moved answers the upgrade with a redirect (RFC 6455 §4.1:
// "the server might redirect the client using a 3xx status code"); the
// client follows it, to ws:// or wss:// alike, and the host's headers
// reach the new place.
func TestHandshakeRedirectFollowed(t *testing.T) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			keys := make(chan string, 4)
			p := newRawPeer(t, steadyPeer)
			p.answer = func(w io.Writer, _ int, key string) bool { return answer101(w, key) }
			v := newVenue(t, func(*session) {})
			v.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				keys <- r.Header.Get("X-Api-Key")
				http.Redirect(w, r, p.url(), code)
			})
			opts := peerOptions()
			opts.HTTPHeader = http.Header{"X-Api-Key": {"k"}}
			h := start(t, v.url(), opts, &sink{}, leaks)
			h.sink.waitFor(t, `{"conn":1}`)
			require.Equal(t, "k", recvWait(t, keys, "request"))
			h.finish(v, p.close)
		})
	}
}

// A redirect from wss:// to ws:// is refused: it would send the host's
// headers (API keys) and then the whole stream, orders included, in
// clear text. Python websockets refuses it alike ("redirect from WSS to
// WS", SecurityError, websockets/asyncio/client.py), and so does
// websocket-sharp. The dial fails with ErrInsecureRedirect, the plain
// server is never contacted, and the redial waits BackoffCap: the venue
// will answer the same.
func TestHandshakeRedirectDowngradeRefused(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, p.url(), http.StatusMovedPermanently)
	}))
	opts := peerOptions()
	opts.HTTPClient = tls.Client()
	h := start(t, "wss"+strings.TrimPrefix(tls.URL, "https")+"/ws", opts, &sink{}, leaks)
	re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.Equal(t, ReasonDial, re.Reason)
	require.ErrorIs(t, re.Err, ErrInsecureRedirect)
	require.NotErrorIs(t, re.Err, ErrPermanent)
	require.GreaterOrEqual(t, re.Delay, DefaultBackoffCap)
	require.Zero(t, p.n.Load(), "the plain server was contacted")
	h.finish(nil, p.close, tls.Close, tls.Client().CloseIdleConnections)
}

// A venue given by an IPv6 literal (ws://[::1]:port/ws): the brackets
// are the URL's, the Host header keeps them and the dial drops them.
// Skipped where the machine has no IPv6 loopback. (Held.)
func TestHandshakeIPv6Literal(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	leaks := goleak.IgnoreCurrent()
	p := newRawPeerOn(t, ln, steadyPeer)
	require.True(t, strings.HasPrefix(p.url(), "ws://[::1]:"), p.url())
	h := start(t, p.url(), peerOptions(), &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	h.finish(nil, p.close)
}

// A 403 to the upgrade is, at exchanges, mostly a block that lifts: a
// WAF limit (Binance spot API docs, "LIMITS": "The HTTP 403 return code
// is used when the WAF Limit (Web Application Firewall) has been
// violated"), or CloudFront's "Request blocked ... Try again later" seen
// "from time to time" by a host with 120 Binance streams
// (oliver-zehentleitner/unicorn-binance-websocket-api#344; gone after
// 10 minutes in JKorf/Binance.Net#115). It was permanent: Run returned
// and the bot's data stopped for good on a passing block. It is retried
// after Options.ForbiddenDelay (10 min: Bybit v5 "Rate Limit Rules" asks
// to "wait for at least 10 minutes" after "403, access too frequent"),
// plus up to a quarter as jitter, or the venue's Retry-After; the host
// sees each refusal (Reconnecting, a *HandshakeError with 403). 401 (and
// a proxy's 407) stay permanent: credentials do not mend themselves.
func TestHandshake403IsRetried(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter string
		least      time.Duration
		most       time.Duration
	}{
		{"no Retry-After", "", DefaultForbiddenDelay, DefaultForbiddenDelay + DefaultForbiddenDelay/4},
		{"Retry-After", "Retry-After: 60\r\n", time.Minute, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, steadyPeer)
			p.answer = func(w io.Writer, n int, key string) bool {
				if n > 1 {
					return answer101(w, key)
				}
				body := "<HTML><H1>403 ERROR</H1>Request blocked. Try again later.<BR>Generated by cloudfront (CloudFront)</HTML>"
				_, _ = fmt.Fprintf(w, "HTTP/1.1 403 Forbidden\r\nServer: CloudFront\r\n%sContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", tc.retryAfter, len(body), body)
				return false
			}
			h := start(t, p.url(), peerOptions(), &sink{}, leaks)
			re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
			require.Equal(t, ReasonDial, re.Reason)
			var he *HandshakeError
			require.ErrorAs(t, re.Err, &he)
			require.Equal(t, http.StatusForbidden, he.StatusCode)
			require.NotErrorIs(t, re.Err, ErrPermanent)
			require.GreaterOrEqual(t, re.Delay, tc.least)
			require.LessOrEqual(t, re.Delay, tc.most)
			h.sink.waitFor(t, `{"conn":2}`)
			h.finish(nil, p.close)
		})
	}
}

// A subprotocol given as a handshake header (Options.HTTPHeader
// "Sec-WebSocket-Protocol", as gorilla/websocket users pass it, which
// gorilla sends as is) rather than in Options.Subprotocols: the venue
// picked it and coder/websocket refused the answer, since it checks the
// pick against DialOptions.Subprotocols only, so every dial failed. The
// header's protocols are offered as Subprotocols are. A
// Sec-WebSocket-Extensions header (compression asked by hand, which
// coder/websocket would refuse in the answer: every dial failing) is
// refused by New, as gorilla/websocket's Dial refuses it.
func TestHandshakeProtocolHeader(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	offered := make(chan string, 4)
	p := protocolPeer(t, offered, func(int) string { return "v2.venue" })
	opts := peerOptions()
	hdr := http.Header{"Sec-WebSocket-Protocol": {"v2.venue, v1.venue"}, "X-Api-Key": {"k"}}
	opts.HTTPHeader = hdr
	h := start(t, p.url(), opts, &sink{}, leaks)
	require.Equal(t, "v2.venue,v1.venue", strings.ReplaceAll(recvWait(t, offered, "handshake"), " ", ""))
	h.rec.waitFor(t, "connected", connected(1))
	h.sink.waitFor(t, `{"conn":1}`)
	require.Zero(t, h.c.Stats().TotalReconnects())
	require.Equal(t, []string{"v2.venue, v1.venue"}, hdr["Sec-WebSocket-Protocol"], "the host's header is not changed") //nolint:staticcheck // a key as hosts write it, not canonical: the point of the test
	h.finish(nil, p.close)

	for _, key := range []string{"Sec-WebSocket-Extensions", "sec-websocket-extensions"} {
		_, err := New("ws://venue.example/ws", nop, &Options{HTTPHeader: http.Header{key: {"permessage-deflate"}}})
		require.ErrorContains(t, err, "Sec-WebSocket-Extensions", key)
	}
}

// Handshake answers that are odd but valid, as hand-written servers and
// old proxies send them: an HTTP/1.0 status line, header names and
// tokens in other cases, Connection with more tokens than Upgrade
// (RFC 6455 §4.1: "case-insensitive match", a token list), a 100
// Continue before the 101 (RFC 9110 §15.2: a client must accept
// interim 1xx answers). Each connects at the first dial. (Held.)
func TestHandshakeOddValidAnswers(t *testing.T) {
	for name, answer := range map[string]func(key string) string{
		"HTTP/1.0": func(key string) string {
			return "HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
		},
		"cases and token lists": func(key string) string {
			return "HTTP/1.1 101 Web Socket Protocol Handshake\r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, upgrade\r\nsec-websocket-accept: " + acceptKey(key) + "\r\nServer: nginx\r\n\r\n"
		},
		"100 Continue first": func(key string) string {
			return "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
		},
	} {
		t.Run(name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, steadyPeer)
			p.answer = func(w io.Writer, _ int, key string) bool {
				_, err := io.WriteString(w, answer(key))
				return err == nil
			}
			h := start(t, p.url(), peerOptions(), &sink{}, leaks)
			h.sink.waitFor(t, `{"conn":1}`)
			require.Zero(t, h.c.Stats().TotalReconnects())
			h.finish(nil, p.close)
		})
	}
}
