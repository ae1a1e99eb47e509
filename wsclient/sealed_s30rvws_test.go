package wsclient

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// A venue that writes its 101 and its first frames in one TCP write (the
// bytes reach net/http's reader with the answer's head, and net/http hands
// them on in the 101's body, ahead of the socket): the dial's sealed
// socket (rawTracker, frameGuard.open) loses none of them and delays none
// of them past the reader's start. The first two messages are delivered
// in order, the ping between them is answered, and the connection is
// never redialled. Sealing the socket by reading it (a seal that drained
// net/http's buffer) or opening it after the reader started would fail
// this test: the frames lost, or an end of stream taken for a read error.
func TestS30rvwsFirstFramesInTheHandshakesSegment(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	first := make(chan *peerConn, 1)
	p := newRawPeer(t, func(pc *peerConn) {
		pc.readClient()
		if pc.n == 1 {
			first <- pc
		}
		pc.hold()
	})
	p.answer = func(w io.Writer, n int, key string) bool {
		head := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
		one := append([]byte(head), text(`{"first":1}`)...)
		one = append(one, wsFrame(true, 0, opPing, []byte("p1"), 0)...)
		one = append(one, text(`{"second":2}`)...)
		_, err := w.Write(one) // one write: one segment on loopback
		return err == nil
	}
	opts := peerOptions()
	opts.Subscriptions = nil
	k := &sink{}
	h := start(t, p.url(), opts, k, leaks)
	h.rec.waitFor(t, "connected on 1", connected(1))
	k.waitFor(t, `{"first":1}`, `{"second":2}`)
	require.Equal(t, []string{`{"first":1}`, `{"second":2}`}, k.got())
	pc := recvWait(t, first, "the peer's connection")
	require.Equal(t, []byte("p1"), recvWait(t, pc.pongs, "the pong of the ping sent with the 101"))
	require.Zero(t, h.c.Stats().TotalReconnects(), "redialled: %v", h.rec.all())
	h.finish(nil, p.close)
}
