package wsclient

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// A redirect chain that leaves the venue's host and comes back to it
// (A → B → A): the request back to A is shaped by B (its path and query
// are B's choice), so it must not carry the host's credentials either.
// net/http's rule for Authorization is sticky: once a redirect left the
// first host, no later hop gets them (Client.do's
// stripSensitiveHeaders); the client's own rule for its other headers
// (API keys, signatures) compared each hop with the first host only and
// sent them again on the way back.
func TestHandshakeRedirectBackAfterForeignHopDropsCredentials(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	got := make(chan http.Header, 4)
	var bounceURL string
	venue := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, bounceURL, http.StatusTemporaryRedirect)
			return
		}
		got <- r.Header.Clone()
		acceptHello(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	}))
	back := "ws" + strings.TrimPrefix(venue.URL, "http") + "/ws?chosen=by-b"
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, back, http.StatusTemporaryRedirect)
	}))
	bounceURL = strings.Replace(foreign.URL, "127.0.0.1", "localhost", 1) + "/bounce"
	opts := peerOptions()
	opts.Subscriptions = nil
	opts.HTTPHeader = http.Header{
		"X-Api-Key":     {"k"},
		"api-signature": {"s"},
		"Authorization": {"Bearer t"},
		"User-Agent":    {"bot/1"},
	}
	h := start(t, "ws"+strings.TrimPrefix(venue.URL, "http")+"/start", opts, &sink{}, leaks)
	h.sink.waitFor(t, "hello")
	hd := recvWait(t, got, "the venue's request")
	require.Equal(t, "bot/1", hd.Get("User-Agent"))
	require.Empty(t, hd.Get("Authorization"), "net/http's own rule")
	require.Empty(t, hd.Get("X-Api-Key"), "sent back to the venue on a request the foreign host shaped")
	require.Empty(t, hd.Values("api-signature"))
	h.finish(nil, venue.Close, foreign.Close)
}
