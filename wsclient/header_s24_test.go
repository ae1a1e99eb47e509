package wsclient

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The handshake's own headers (Connection, Upgrade, Sec-WebSocket-Key,
// Sec-WebSocket-Version) are coder/websocket's to set. In Options.HTTPHeader
// under their canonical key they were overridden; under another case
// (a map literal keeps the key as written, as a header copied from a
// browser or from gorilla/websocket code often is) they went out as a
// second header next to coder/websocket's: two Sec-WebSocket-Keys, and the
// venue answers for the host's (coder/websocket's own Accept takes the
// first), so that every dial failed its accept check and was redialled for
// ever; a second Connection or Upgrade is refused outright by strict
// servers. They are dropped, whatever their case, and the dial works.
func TestHandshakeOwnHeadersInAnyCase(t *testing.T) {
	for _, hdr := range []http.Header{
		{"sec-websocket-key": {"dGhlIHNhbXBsZSBub25jZQ=="}},
		{"Sec-WebSocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}},
		{"sec-websocket-version": {"8"}},
		{"connection": {"close"}},
		{"upgrade": {"h2c"}},
	} {
		t.Run(onlyKey(hdr), func(t *testing.T) {
			sent := handshakeSent(t, hdr)
			for k := range hdr {
				require.Len(t, sent.Values(k), 1, "one %s sent: %q", k, sent.Values(k))
			}
		})
	}
}

// onlyKey is the key of a one-key header.
func onlyKey(h http.Header) string {
	for k := range h {
		return k
	}
	return ""
}

// handshakeSent dials a venue with hdr as Options.HTTPHeader and returns
// the headers of the handshake it received, once the client is connected
// (at the first dial) and closed.
func handshakeSent(t *testing.T, hdr http.Header) http.Header {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	got := make(chan http.Header, 4)
	v := newVenue(t, steady)
	inner := v.srv.Config.Handler
	v.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		inner.ServeHTTP(w, r)
	})
	opts := quickOptions()
	opts.HTTPHeader = hdr
	h := start(t, v.url(), opts, &sink{}, leaks)
	sent := recvWait(t, got, "handshake")
	h.rec.waitFor(t, "connected", connected(1))
	require.Zero(t, h.c.Stats().TotalReconnects())
	h.finish(v)
	return sent
}
