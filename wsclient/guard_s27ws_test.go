package wsclient

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// RFC 6455 §5.1: "A client MUST close a connection if it detects a masked
// frame" from the server. coder/websocket v1.8.15 takes a masked data
// frame from the server and delivers its payload still masked (read.go:
// msgReader.read unmasks only on the server side), and unmasks a masked
// control frame. Each is a read error of connection 1 (ReasonReadError,
// ErrMaskedFrame), nothing delivered from or after the masked frame, and
// the client reconnects.
func TestS27MaskedServerFrame(t *testing.T) {
	const key = 0x11223344
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"text", wsFrame(true, 0, opText, []byte(`{"masked":1}`), key)},
		{"binary", wsFrame(true, 0, opBinary, []byte{1, 2, 3, 4, 5}, key)},
		{"empty text", wsFrame(true, 0, opText, nil, key)},
		{"ping", wsFrame(true, 0, opPing, []byte("p"), key)},
		{"pong", wsFrame(true, 0, opPong, []byte("p"), key)},
		{"close", wsFrame(true, 0, opClose, []byte{0x03, 0xe8}, key)},
		{"continuation", append(wsFrame(false, 0, opText, []byte(`{"a":`), 0), wsFrame(true, 0, opCont, []byte(`1}`), key)...)},
		{"64-bit length", wsFrame(true, 0, opBinary, make([]byte, 70000), key)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
				_ = pc.write(text(`{"n":1}`), tc.frame, text(`{"n":2}`))
				pc.hold()
			}))
			h := start(t, p.url(), peerOptions(), &sink{}, leaks)
			lost := requireLost(t, h, ReasonReadError)
			require.ErrorIs(t, lost.Err, ErrMaskedFrame)
			h.sink.waitFor(t, `{"conn":2}`)
			require.Equal(t, []string{`{"n":1}`, `{"conn":2}`}, h.sink.got(), "nothing from or after the masked frame")
			require.Zero(t, h.c.Stats().InvalidFrames)
			h.finish(nil, p.close)
		})
	}
}

// RFC 6455 §5.4, §7.1.5: a message is whole only once its FIN frame came; a
// connection that ends before (TCP FIN, no close frame) leaves it
// incomplete (1006). coder/websocket v1.8.15 reads the end of the stream
// at a frame boundary, or at the start of a read of the payload, as the
// end of the message (msgReader.Read: errors.Is(err, io.EOF)) and so gives
// the fragments received as a whole message: a cut snapshot a handler
// would take for the book. Each case is a read error, and nothing of the
// cut message is delivered.
func TestS27ConnectionEndsInsideMessage(t *testing.T) {
	big := strings.Repeat("x", 8192) // twice the frame buffer's first size
	for _, tc := range []struct {
		name  string
		bytes []byte
	}{
		{"between fragments", wsFrame(false, 0, opText, []byte(`{"cut":`), 0)},
		{"between binary fragments", wsFrame(false, 0, opBinary, []byte{1, 2, 3}, 0)},
		{"after a ping between fragments", append(wsFrame(false, 0, opText, []byte(`{"cut":`), 0), wsFrame(true, 0, opPing, []byte("p"), 0)...)},
		{"after empty fragments", append(wsFrame(false, 0, opText, nil, 0), wsFrame(false, 0, opCont, nil, 0)...)},
		{"after a header", wsFrame(true, 0, opText, []byte(`{"cut":"here"}`), 0)[:2]},
		{"after a continuation's header", append(wsFrame(false, 0, opText, []byte(`{"cut":`), 0), wsFrame(true, 0, opCont, []byte(`1}`), 0)[:2]...)},
		{"at a read boundary", wsFrame(true, 0, opText, []byte(big), 0)[:4+4096]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
				_ = pc.write(text(`{"n":1}`), tc.bytes)
				_ = pc.c.(*net.TCPConn).CloseWrite() // FIN, no close frame
				pc.hold()
			}))
			h := start(t, p.url(), peerOptions(), &sink{}, leaks)
			requireLost(t, h, ReasonReadError)
			h.sink.waitFor(t, `{"conn":2}`)
			require.Equal(t, []string{`{"n":1}`, `{"conn":2}`}, h.sink.got(), "nothing of the cut message")
			require.EqualValues(t, 2, h.c.Stats().Messages)
			h.finish(nil, p.close)
		})
	}
}
