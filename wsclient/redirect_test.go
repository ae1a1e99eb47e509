package wsclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// A redirect of the handshake to another host does not carry the host's
// credentials there. net/http drops Authorization and Cookie on such a
// redirect (RFC 9110 §15.4: a client ought to drop credentials it does
// not know are meant for the new place), but passes every other header
// on: the API keys venues read in the handshake (BitMEX's api-key and
// api-signature, a gateway's X-Api-Key) reached whatever host a venue, a
// CDN or a captive portal redirected to. The host's headers other than
// User-Agent, Origin and the Accept ones are dropped when the redirect
// leaves the first host (and its subdomains, net/http's rule for
// Authorization); a redirect within the host keeps them.
func TestHandshakeRedirectDropsCredentials(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cross bool
	}{{"other host", true}, {"same host", false}} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			got := make(chan http.Header, 4)
			venue := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- r.Header.Clone()
				acceptHello(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true}) // the Origin is another site
			}))
			to := "ws" + strings.TrimPrefix(venue.URL, "http") + "/ws"
			if tc.cross {
				to = strings.Replace(to, "127.0.0.1", "localhost", 1)
			}
			moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, to, http.StatusTemporaryRedirect)
			}))
			opts := peerOptions()
			opts.Subscriptions = nil
			opts.HTTPHeader = http.Header{
				"X-Api-Key":     {"k"},
				"api-signature": {"s"}, // as a map literal keeps it
				"Authorization": {"Bearer t"},
				"User-Agent":    {"bot/1"},
				"Origin":        {"https://bot.example"},
			}
			h := start(t, "ws"+strings.TrimPrefix(moved.URL, "http")+"/ws", opts, &sink{}, leaks)
			h.sink.waitFor(t, "hello")
			hd := recvWait(t, got, "the venue's request")
			require.Equal(t, "bot/1", hd.Get("User-Agent"))
			require.Equal(t, "https://bot.example", hd.Get("Origin"))
			if tc.cross {
				require.Empty(t, hd.Get("X-Api-Key"))
				require.Empty(t, hd.Values("api-signature"))
				require.Empty(t, hd.Get("Authorization"))
			} else {
				require.Equal(t, "k", hd.Get("X-Api-Key"))
				require.Equal(t, []string{"s"}, hd.Values("api-signature"))
				require.Equal(t, "Bearer t", hd.Get("Authorization"))
			}
			h.finish(nil, venue.Close, moved.Close)
		})
	}
}

// A header net/http would refuse to send (a CR or LF in a value, an
// invalid key, a Host with a space) is refused by New, with the key
// named: net/http refuses it at every handshake ("invalid header field
// value"), which the client redialled with backoff for ever, a stream
// that never starts for a typo in the configuration. Nothing of such a
// value reaches the wire (no header injection).
func TestNewRefusesInvalidHTTPHeader(t *testing.T) {
	for name, hd := range map[string]http.Header{
		"CRLF in value": {"X-Api-Key": {"k\r\nX-Evil: 1"}},
		"LF in value":   {"X-Api-Key": {"k\nX-Evil: 1"}},
		"NUL in value":  {"X-Api-Key": {"k\x00"}},
		"space in key":  {"X Api Key": {"k"}},
		"colon in key":  {"X-Api-Key:": {"k"}},
		"empty key":     {"": {"k"}},
		"Host CRLF":     {"Host": {"venue.example\r\nX-Evil: 1"}},
		"Host space":    {"host": {"venue example"}},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := New("ws://127.0.0.1:1", nop, &Options{HTTPHeader: hd})
			require.Error(t, err)
			require.Nil(t, c)
			require.ErrorContains(t, err, "HTTPHeader")
		})
	}
	for name, hd := range map[string]http.Header{
		"tab in value": {"X-Api-Key": {"a\tb"}},
		"UTF-8 value":  {"User-Agent": {"bot/1 ünï"}},
		"empty value":  {"X-Empty": {""}},
		"Host port":    {"Host": {"venue.example:8443"}},
		"Host IPv6":    {"Host": {"[::1]:443"}},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := New("ws://127.0.0.1:1", nop, &Options{HTTPHeader: hd})
			require.NoError(t, err)
			require.NoError(t, c.Close(context.Background()))
		})
	}
}
