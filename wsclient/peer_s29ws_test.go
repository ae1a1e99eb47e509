package wsclient

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// A foreign server that pings in the same TCP segment as its 101 (before
// the client has finished reading the handshake), with a payload of the
// most a control frame may carry (125 bytes, RFC 6455 §5.5), and sends a
// pong nobody asked for (§5.5.3: ignored): the ping is answered with its
// payload (§5.5.2), the message after it delivered, the connection kept.
// (Held before this change: pinned for the kind's review.)
func TestS29PingInTheSegmentOfThe101(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, func(pc *peerConn) { pc.readClient(); pc.hold() })
	payload := strings.Repeat("x", 125)
	p.answer = func(w io.Writer, _ int, key string) bool {
		b := []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n")
		b = append(b, wsFrame(true, 0, opPing, []byte(payload), 0)...)
		b = append(b, wsFrame(true, 0, opPong, []byte("unasked"), 0)...)
		b = append(b, text(`{"after":1}`)...)
		_, err := w.Write(b)
		return err == nil
	}
	h := start(t, p.url(), peerOptions(), &sink{}, leaks)
	h.sink.waitFor(t, `{"after":1}`)
	require.Equal(t, payload, string(recvWait(t, p.conn(1).pongs, "pong")))
	st := h.c.Stats()
	require.Zero(t, st.TotalReconnects())
	require.Zero(t, st.InvalidFrames)
	h.finish(nil, p.close)
}
