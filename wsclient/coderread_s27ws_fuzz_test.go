package wsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

// upgradeRT answers every handshake with a correct 101 whose body is a
// stream of server frames: coder/websocket's reader and the frame guard
// read it as they read a venue's socket, without a network.
type upgradeRT struct{ stream []byte }

func (u upgradeRT) RoundTrip(req *http.Request) (*http.Response, error) {
	h := http.Header{}
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Accept", acceptKey(req.Header.Get("Sec-WebSocket-Key")))
	return &http.Response{
		StatusCode: http.StatusSwitchingProtocols, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: readOnly{bytes.NewReader(u.stream)}, Request: req,
	}, nil
}

// readStream reads stream as the reader of a connection does (the guard
// in front of coder/websocket, readAll into a reused buffer) and returns
// the messages and the error that ended the reading.
func readStream(t testing.TB, stream []byte, limit int64) ([]string, error) {
	return readVia(t, upgradeRT{stream}, true, limit)
}

// readVia reads every message of the 101 answers of rt (a message over
// limit as "(dropped: N bytes)"; a negative limit is none), through the
// client's transport (the frame guard in front of coder/websocket) when
// guarded, else through coder/websocket alone, with readAll into a reused
// buffer as the reader of a connection does.
func readVia(t testing.TB, rt http.RoundTripper, guarded bool, limit int64) ([]string, error) {
	hc := &http.Client{Transport: rt}
	if guarded {
		hc = dialClient(hc, realClock{}, nil, "")
	}
	ws, _, err := websocket.Dial(context.Background(), "ws://venue.test/ws", &websocket.DialOptions{HTTPClient: hc})
	require.NoError(t, err)
	defer func() { _ = ws.CloseNow() }()
	if limit < 0 {
		limit = math.MaxInt64
	}
	ws.SetReadLimit(-1) // as the client's connections: readAll keeps the limit
	var msgs []string
	buf := make([]byte, 0, 64)
	for {
		_, r, err := ws.Reader(context.Background())
		if err == nil {
			buf, err = readAll(buf[:0], r, limit)
		}
		if big := (*OversizedError)(nil); errors.As(err, &big) {
			msgs = append(msgs, fmt.Sprintf("(dropped: %d bytes)", big.Size))
			continue
		}
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, string(buf))
	}
}

// FuzzCoderRead feeds any byte stream, as a venue's frames, to
// coder/websocket's reader behind the frame guard: nothing panics, the
// reading ends with an error at the stream's end, and a message is only
// delivered whole: the frames that make it are in the stream.
func FuzzCoderRead(f *testing.F) {
	for _, s := range [][]byte{
		text(`{"a":1}`),
		append(wsFrame(false, 0, opText, []byte("ab"), 0), append(wsFrame(true, 0, opPing, []byte("p"), 0), wsFrame(true, 0, opCont, []byte("c"), 0)...)...),
		append(text("x"), closeFrame(1000, "bye")...),
		wsFrame(true, 0x40, opText, []byte("x"), 0),
		wsFrame(true, 0, opText, []byte("m"), 0x01020304),
		{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1},
		wsFrame(true, 0, opBinary, make([]byte, 300), 0),
		append(wsFrame(false, 0, opBinary, []byte{1}, 0), wsFrame(false, 0, opCont, nil, 0)...),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		msgs, err := readStream(t, stream, 1024)
		require.Error(t, err)
		require.NotErrorIs(t, err, websocket.ErrMessageTooBig, "an oversized message is dropped, not the end of the reading")
		for _, m := range msgs {
			require.LessOrEqual(t, len(m), 1024)
		}
	})
}

// The read path end to end on the cases of the package's tests: a
// fragmented message with a ping between its fragments is delivered whole;
// a cut one and a masked one are errors; an oversized one, whole or in
// fragments, is dropped and the messages after it delivered.
func TestS27ReadStream(t *testing.T) {
	msgs, err := readStream(t, append(wsFrame(false, 0, opText, []byte("ab"), 0), append(wsFrame(true, 0, opPing, []byte("p"), 0), wsFrame(true, 0, opCont, []byte("c"), 0)...)...), 1024)
	require.Equal(t, []string{"abc"}, msgs)
	require.ErrorIs(t, err, io.EOF)

	msgs, err = readStream(t, append(text("a"), wsFrame(false, 0, opText, []byte("b"), 0)...), 1024)
	require.Equal(t, []string{"a"}, msgs)
	require.ErrorIs(t, err, ErrMessageCut)

	msgs, err = readStream(t, append(text("a"), wsFrame(true, 0, opText, []byte("b"), 7)...), 1024)
	require.Equal(t, []string{"a"}, msgs)
	require.ErrorIs(t, err, ErrMaskedFrame)

	msgs, err = readStream(t, slices.Concat(text(strings.Repeat("x", 1025)), text(strings.Repeat("y", 1024)),
		wsFrame(false, 0, opText, []byte(strings.Repeat("z", 1000)), 0), wsFrame(true, 0, opCont, []byte(strings.Repeat("z", 25)), 0),
		text("after")), 1024)
	require.Equal(t, []string{"(dropped: 1025 bytes)", strings.Repeat("y", 1024), "(dropped: 1025 bytes)", "after"}, msgs)
	require.ErrorIs(t, err, io.EOF)
}
