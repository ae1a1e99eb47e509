package wsclient

import (
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// A text message in fragments with control frames between them (RFC 6455
// §5.4: "control frames MAY be injected in the middle of a fragmented
// message"): a ping of 125 bytes (the most §5.5 allows), an unsolicited
// pong (§5.5.3: a unidirectional heartbeat) and a UTF-8 character split
// across two fragments. The message is delivered whole, once, as text;
// the ping is answered with its payload; nothing is reported.
func TestS31wsFragmentsWithControlFramesBetween(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	ping := make([]byte, 125)
	for i := range ping {
		ping[i] = byte('a' + i%26)
	}
	p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
		_ = pc.write(
			wsFrame(false, 0, opText, []byte(`{"s":"caf`), 0),
			wsFrame(true, 0, opPing, ping, 0),
			wsFrame(false, 0, opCont, []byte{0xc3}, 0), // é, split
			wsFrame(true, 0, opPong, []byte("unsolicited"), 0),
			wsFrame(true, 0, opCont, []byte{0xa9, '"', '}'}, 0),
			text(`{"after":1}`),
		)
		pc.hold()
	}))
	h := start(t, p.url(), peerOptions(), &sink{}, leaks)
	h.sink.waitFor(t, `{"s":"café"}`, `{"after":1}`)
	pc := p.conn(1)
	require.Equal(t, ping, recvWait(t, pc.pongs, "the pong"), "the ping's payload echoed")
	st := h.c.Stats()
	require.Zero(t, st.TotalReconnects())
	require.Zero(t, st.InvalidFrames)
	require.Zero(t, st.HandlerErrors)
	require.EqualValues(t, 2, st.Messages)
	h.finish(nil, p.close)
}

// A close frame between the fragments of a message (allowed: a control
// frame) with a code that asks to come back later: the host sees the
// venue's code and reason (ReasonPeerClosed, a websocket.CloseError), not
// a cut message, the redial waits for TryAgainDelay, and the part of the
// message received is not delivered.
func TestS31wsCloseBetweenFragments(t *testing.T) {
	for _, code := range []uint16{1011, 1012, 1013} {
		t.Run(websocket.StatusCode(code).String(), func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
				_ = pc.write(
					wsFrame(false, 0, opText, []byte(`{"part":`), 0),
					closeFrame(code, "maintenance"),
				)
				pc.hold()
			}))
			opts := peerOptions()
			opts.BackoffBase = time.Millisecond
			h := start(t, p.url(), opts, &sink{}, leaks)
			lost := conn1Lost(t, h)
			require.Equal(t, ReasonPeerClosed, lost.Reason, "err %v", lost.Err)
			var ce websocket.CloseError
			require.ErrorAs(t, lost.Err, &ce)
			require.EqualValues(t, code, ce.Code)
			require.Equal(t, "maintenance", ce.Reason)
			require.NotErrorIs(t, lost.Err, ErrMessageCut)
			re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
			if code == 1011 {
				require.LessOrEqual(t, re.Delay, opts.BackoffBase, "1011: the plain backoff")
			} else {
				require.GreaterOrEqual(t, re.Delay, DefaultTryAgainDelay)
			}
			h.rec.waitFor(t, "connected on 2", connected(2))
			h.sink.waitFor(t, `{"conn":2}`)
			require.Equal(t, []string{`{"conn":2}`}, h.sink.got(), "the part never delivered")
			h.finish(nil, p.close)
		})
	}
}

// A binary message on a stream the venue documents as text (a gateway
// that compresses at the application level, a venue's error page as
// bytes): delivered as sent with Frame.Binary set, not checked for UTF-8
// (its bytes are the handler's to refuse), the connection kept. A binary
// frame where a text message's continuation is due is a protocol error
// (RFC 6455 §5.4): a read error, redialled.
func TestS31wsBinaryOnTextStream(t *testing.T) {
	t.Run("message", func(t *testing.T) {
		leaks := goleak.IgnoreCurrent()
		p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
			_ = pc.write(wsFrame(true, 0, opBinary, []byte{0x1f, 0x8b, 0xff, 0x00}, 0), text(`{"after":1}`))
			pc.hold()
		}))
		var mu sync.Mutex
		binary := map[string]bool{}
		k := &sink{hook: func(f *schema.WsFrame) error {
			mu.Lock()
			binary[string(f.Data)] = f.Binary
			mu.Unlock()
			return nil
		}}
		h := start(t, p.url(), peerOptions(), k, leaks)
		k.waitFor(t, "\x1f\x8b\xff\x00", `{"after":1}`)
		mu.Lock()
		require.Equal(t, map[string]bool{"\x1f\x8b\xff\x00": true, `{"after":1}`: false}, binary)
		mu.Unlock()
		st := h.c.Stats()
		require.Zero(t, st.TotalReconnects())
		require.Zero(t, st.InvalidFrames, "a binary message is not checked for UTF-8")
		h.finish(nil, p.close)
	})
	t.Run("instead of a continuation", func(t *testing.T) {
		leaks := goleak.IgnoreCurrent()
		p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
			_ = pc.write(wsFrame(false, 0, opText, []byte(`{"a":`), 0), wsFrame(true, 0, opBinary, []byte("1}"), 0))
			pc.hold()
		}))
		h := start(t, p.url(), peerOptions(), &sink{}, leaks)
		lost := requireLost(t, h, ReasonReadError)
		require.Error(t, lost.Err)
		h.sink.waitFor(t, `{"conn":2}`)
		require.Equal(t, []string{`{"conn":2}`}, h.sink.got())
		h.finish(nil, p.close)
	})
}
