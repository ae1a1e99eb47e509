package wsclient

import (
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// The tests of this file play, on npm ws (nodePeer), the close and
// control frames venues and their servers really send, several of them
// against RFC 6455, with the raw verb of peer.js where ws refuses to send
// them: an empty close frame (ws's own close() with no code: RFC 6455
// §7.1.5 makes it 1005 for the application, no abnormal closure;
// websockets/ws#1259, lukeed/sockette#3), 1005 and 1006 written in a
// close frame (§7.4.1: MUST NOT; nats-server#6259 sent both, and
// hypercorn closed with 1006 on an internal error, pgjones/hypercorn#112),
// a close payload of one byte, frames after the close frame, a ping of
// exactly 125 bytes and one over, a fragmented ping, and messages begun
// inside another or continued without one begun.

// rawHex is frames as peer.js's raw verb takes them.
func rawHex(frames ...[]byte) string {
	var b []byte
	for _, f := range frames {
		b = append(b, f...)
	}
	return hex.EncodeToString(b)
}

// A close frame as venues send it: the host sees what the frame says
// (ReasonPeerClosed with its code, 1005 for an empty one, whose answer is
// empty too), or, for a close the RFC forbids (1005 or 1006 on the wire,
// a one-byte payload), a protocol error (ReasonReadError; the peer is
// told 1002). Frames the peer sends after its close frame (a message, a
// ping) are never delivered nor answered. The client redials with the
// plain backoff (none of these asks for a floor) and resubscribes.
func TestS44wsNodeCloseFrames(t *testing.T) {
	for _, tc := range []struct {
		name   string
		verb   []string
		reason Reason
		code   websocket.StatusCode // the host's (ReasonPeerClosed), -1: none
		peer   int                  // the close code the peer gets back
	}{
		{"empty (ws close())", []string{"close"}, ReasonPeerClosed, websocket.StatusNoStatusRcvd, int(websocket.StatusNoStatusRcvd)},
		{"1005 on the wire", []string{"raw", rawHex(closeFrame(1005, ""))}, ReasonReadError, -1, int(websocket.StatusProtocolError)},
		{"1006 on the wire", []string{"raw", rawHex(closeFrame(1006, "abnormal"))}, ReasonReadError, -1, int(websocket.StatusProtocolError)},
		{"one-byte payload", []string{"raw", rawHex(wsFrame(true, 0, opClose, []byte{0x03}, 0))}, ReasonReadError, -1, int(websocket.StatusProtocolError)},
		{"a message and a ping after it", []string{"raw", rawHex(closeFrame(1001, "bye"), text(`{"after":1}`), wsFrame(true, 0, opPing, []byte("late"), 0))},
			ReasonPeerClosed, websocket.StatusGoingAway, int(websocket.StatusGoingAway)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := startNodePeer(t)
			h := startOnNode(t, p, peerOptions(), &sink{}, leaks)
			p.do(1, "text", hx(`{"before":1}`))
			h.sink.waitFor(t, `{"before":1}`)
			p.do(1, tc.verb[0], tc.verb[1:]...)
			lost := conn1Lost(t, h)
			require.Equal(t, tc.reason, lost.Reason, "err %v", lost.Err)
			require.Equal(t, tc.code, websocket.CloseStatus(lost.Err), "err %v", lost.Err)
			code, _ := p.closed(1)
			require.Equal(t, tc.peer, code, "the close code the peer got")
			re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
			require.LessOrEqual(t, re.Delay, h.c.opts.BackoffBase, "no floor: event %v", re)
			p.opened(2)
			p.until("resubscribed", func() bool { return p.count("message", 2) >= len(testSubs) })
			p.do(2, "text", hx(`{"conn":2}`))
			h.sink.waitFor(t, `{"conn":2}`)
			require.Equal(t, []string{`{"before":1}`, `{"conn":2}`}, h.sink.got(), "nothing after the close delivered")
			require.Zero(t, p.count("pong", 1), "a ping after the close answered")
			h.finish(nil, p.close)
		})
	}
}

// Control frames at and over RFC 6455's bounds, and messages that break
// its fragmentation rules (§5.4, §5.5): a ping of exactly 125 bytes is
// answered with its payload and the connection kept; a ping of 126
// bytes, a fragmented ping, a text frame begun inside a fragmented
// message and a continuation with no message begun are protocol errors
// (ReasonReadError; the peer is told 1002): the part of a message is not
// delivered, and the client redials and resubscribes.
func TestS44wsNodeControlAndFragmentBounds(t *testing.T) {
	p125 := strings.Repeat("p", 125)
	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"ping of 125 bytes", wsFrame(true, 0, opPing, []byte(p125), 0)},
		{"ping of 126 bytes", wsFrame(true, 0, opPing, []byte(p125+"p"), 0)},
		{"fragmented ping", wsFrame(false, 0, opPing, []byte("half"), 0)},
		{"message begun inside another", append(wsFrame(false, 0, opText, []byte(`{"part":`), 0), text(`{"other":1}`)...)},
		{"continuation with none begun", wsFrame(true, 0, opCont, []byte(`{"orphan":1}`), 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := startNodePeer(t)
			h := startOnNode(t, p, peerOptions(), &sink{}, leaks)
			p.do(1, "text", hx(`{"before":1}`))
			h.sink.waitFor(t, `{"before":1}`)
			p.do(1, "raw", rawHex(tc.raw))
			if tc.name == "ping of 125 bytes" {
				pong := p.waitLine("the pong", func(f []string) bool { return f[0] == "pong" && f[1] == "1" })
				require.Equal(t, p125, unhex(t, pong[2]), "the pong echoes the ping")
				p.do(1, "text", hx(`{"after":1}`))
				h.sink.waitFor(t, `{"after":1}`)
				require.Zero(t, h.c.Stats().TotalReconnects())
				require.Zero(t, h.rec.count(isState(schema.ConnDisconnected)))
				h.finish(nil, p.close)
				return
			}
			lost := requireLost(t, h, ReasonReadError)
			require.Equal(t, websocket.StatusCode(-1), websocket.CloseStatus(lost.Err), "err %v", lost.Err)
			code, _ := p.closed(1)
			require.Equal(t, int(websocket.StatusProtocolError), code, "the peer is told 1002")
			p.until("resubscribed", func() bool { return p.count("message", 2) >= len(testSubs) })
			p.do(2, "text", hx(`{"conn":`+strconv.Itoa(2)+`}`))
			h.sink.waitFor(t, `{"conn":2}`)
			require.Equal(t, []string{`{"before":1}`, `{"conn":2}`}, h.sink.got(), "no part, no message of a broken sequence")
			h.finish(nil, p.close)
		})
	}
}
