package wsclient

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// RFC 6455 §5.4: "Control frames MAY be injected in the middle of a
// fragmented message", and §5.5.1: a close frame may come while a
// fragmented message is under way; after sending it the peer sends no
// more data (§1.4, §5.5.1) and closes TCP. The close is acted on: the
// venue's close with its code (ReasonPeerClosed), not a cut message
// (ErrMessageCut), and nothing of the unfinished message is delivered,
// whether the final fragment follows the close (data after a close
// frame, ignored), the stream ends right after it (TCP FIN), or both.
func TestS28CloseBetweenFragments(t *testing.T) {
	frag := wsFrame(false, 0, opText, []byte(`{"cut":`), 0)
	fin := wsFrame(true, 0, opCont, []byte(`1}`), 0)
	bye := closeFrame(1001, "going away")
	for _, tc := range []struct {
		name   string
		chunks [][]byte
		eof    bool
	}{
		{"close then final fragment", [][]byte{frag, bye, fin}, false},
		{"close then end of stream", [][]byte{frag, bye}, true},
		{"close, final fragment, end of stream", [][]byte{frag, bye, fin}, true},
		{"ping, close, end of stream", [][]byte{frag, wsFrame(true, 0, opPing, []byte("p"), 0), bye}, true},
		{"close in one write with the fragment, end of stream", [][]byte{append(append([]byte(nil), frag...), bye...)}, true},
		{"binary fragment, close, end of stream", [][]byte{wsFrame(false, 0, opBinary, []byte{1, 2}, 0), bye}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
				_ = pc.write(text(`{"n":1}`))
				_ = pc.write(tc.chunks...)
				if tc.eof {
					_ = pc.c.(*net.TCPConn).CloseWrite()
				}
				pc.hold()
			}))
			h := start(t, p.url(), peerOptions(), &sink{}, leaks)
			lost := conn1Lost(t, h)
			require.NotErrorIs(t, lost.Err, ErrMessageCut)
			require.Equal(t, ReasonPeerClosed, lost.Reason, "err %v", lost.Err)
			require.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(lost.Err))
			h.sink.waitFor(t, `{"conn":2}`)
			require.Equal(t, []string{`{"n":1}`, `{"conn":2}`}, h.sink.got(), "nothing of the unfinished message")
			h.finish(nil, p.close)
		})
	}
}

// dataErrRT is upgradeRT whose body gives the stream's end with its last
// bytes, in one Read (n > 0, io.EOF), as crypto/tls does when a
// close_notify follows the data in its buffer, and as io.Reader allows.
type dataErrRT struct{ stream []byte }

func (u dataErrRT) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := upgradeRT(u).RoundTrip(req)
	if err == nil {
		res.Body = readOnly{iotest.DataErrReader(bytes.NewReader(u.stream))}
	}
	return res, err
}

// The end of the stream given with the last bytes in one Read (TLS's
// close_notify): a close frame between fragments is still the venue's
// close, a stream that ends after whole messages still delivers them
// all, and one cut inside a message is still ErrMessageCut.
func TestS28StreamEndWithLastBytes(t *testing.T) {
	frag := wsFrame(false, 0, opText, []byte(`{"cut":`), 0)
	for _, rt := range []func([]byte) http.RoundTripper{
		func(b []byte) http.RoundTripper { return upgradeRT{b} },
		func(b []byte) http.RoundTripper { return dataErrRT{b} },
	} {
		msgs, err := readVia(t, rt(slices.Concat(text("a"), frag, closeFrame(1001, "bye"), wsFrame(true, 0, opCont, []byte(`1}`), 0))), true, -1)
		require.Equal(t, []string{"a"}, msgs)
		require.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err), "err %v", err)

		msgs, err = readVia(t, rt(slices.Concat(text("a"), text("b"))), true, -1)
		require.Equal(t, []string{"a", "b"}, msgs)
		require.ErrorIs(t, err, io.EOF)
		require.NotErrorIs(t, err, ErrMessageCut)

		msgs, err = readVia(t, rt(slices.Concat(text("a"), frag)), true, -1)
		require.Equal(t, []string{"a"}, msgs)
		require.ErrorIs(t, err, ErrMessageCut)
	}
}
