package wsclient

import (
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// wrapRT is a host's RoundTripper that is not an *http.Transport (tracing,
// metrics, signing): it passes every request on.
type wrapRT struct{ rt http.RoundTripper }

func (w wrapRT) RoundTrip(r *http.Request) (*http.Response, error) { return w.rt.RoundTrip(r) }

// The host's own HTTP client, whatever its shape, dials, and the close
// handshake's bound cuts the socket of a venue that never answers: the
// socket is found through the client's RoundTripper whether it is nil
// (http.DefaultTransport), an *http.Transport or a wrapper of one, and a
// Client.Timeout (which net/http applies by wrapping the response body in
// a type that cannot be written) does not stop the dial: coder/websocket
// turns it into the handshake's context deadline.
func TestHostHTTPClients(t *testing.T) {
	for name, hc := range map[string]func() *http.Client{
		"nil Transport": func() *http.Client { return &http.Client{} },
		"wrapped":       func() *http.Client { return &http.Client{Transport: wrapRT{ownHTTPClient().Transport}} },
		"Timeout":       func() *http.Client { return &http.Client{Transport: ownHTTPClient().Transport, Timeout: time.Minute} },
		"Timeout wrapped": func() *http.Client {
			return &http.Client{Transport: wrapRT{ownHTTPClient().Transport}, Timeout: time.Minute}
		},
	} {
		t.Run(name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, steadyPeer) // never answers the close frame
			opts := peerOptions()
			opts.HTTPClient = hc()
			opts.CloseTimeout = 3 * time.Second
			h := start(t, p.url(), opts, &sink{}, leaks)
			h.rec.waitFor(t, "connected", connected(1))
			h.sink.waitFor(t, `{"conn":1}`)
			closeAtBound(t, h, p.conn(1))
			p.close()
			goleak.VerifyNone(t, leaks)
		})
	}
}
