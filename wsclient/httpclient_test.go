package wsclient

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
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
			pc := p.conn(1)
			closed := make(chan error, 1)
			go func() { closed <- h.c.Close(context.Background()) }()
			require.EqualValues(t, websocket.StatusNormalClosure, closeCode(recvWait(t, pc.closes, "close frame")))
			due := h.clock.Now().Add(opts.CloseTimeout)
			require.Eventually(t, func() bool { return h.clock.armedAt(due) }, wait, time.Millisecond, "close bound armed")
			h.clock.advance(opts.CloseTimeout)
			require.NoError(t, recvWait(t, closed, "Close at the bound"))
			recvWait(t, pc.gone, "TCP cut")
			require.NoError(t, recvWait(t, h.runErr, "Run"))
			require.Zero(t, h.frames.Stats().InUse)
			p.close()
			goleak.VerifyNone(t, leaks)
		})
	}
}
