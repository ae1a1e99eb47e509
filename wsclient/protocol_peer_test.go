package wsclient

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// RFC 6455 §5.4: control frames may be injected in the middle of a
// fragmented message; §5.5.2-3: a ping's pong carries its payload, and an
// unsolicited pong is ignored. The messages arrive whole, in order, with
// their type; the pongs echo each ping; the connection is kept.
func TestPeerFragmentsWithPingsBetween(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	done := make(chan struct{})
	p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
		_ = pc.write(
			wsFrame(true, 0, opPong, []byte("unsolicited"), 0),
			wsFrame(false, 0, opText, []byte(`{"frag":`), 0),
			wsFrame(true, 0, opPing, []byte("p1"), 0),
			wsFrame(false, 0, opCont, []byte(`"é`[:2]), 0), // é split across fragments
			wsFrame(true, 0, opPing, []byte(strings.Repeat("x", 125)), 0),
			wsFrame(false, 0, opCont, []byte(`"é`[2:]), 0),
			wsFrame(true, 0, opCont, []byte(`"}`), 0),
			wsFrame(false, 0, opBinary, []byte{0, 1}, 0),
			wsFrame(true, 0, opPing, nil, 0),
			wsFrame(true, 0, opCont, []byte{2, 3}, 0),
			text(`{"after":1}`),
		)
		<-done
		pc.hold()
	}))
	var binary []byte
	k := &sink{hook: func(f *schema.WsFrame) error {
		if f.Binary {
			binary = append([]byte(nil), f.Data...)
		}
		return nil
	}}
	h := start(t, p.url(), peerOptions(), k, leaks)
	k.waitFor(t, `{"frag":"é"}`, `{"after":1}`)
	pc := p.conn(1)
	require.Equal(t, "p1", string(recvWait(t, pc.pongs, "pong 1")))
	require.Equal(t, strings.Repeat("x", 125), string(recvWait(t, pc.pongs, "pong 2")))
	require.Empty(t, recvWait(t, pc.pongs, "pong 3"))
	close(done)
	require.Equal(t, []string{`{"frag":"é"}`, "\x00\x01\x02\x03", `{"after":1}`}, k.got())
	require.Equal(t, []byte{0, 1, 2, 3}, binary)
	st := h.c.Stats()
	require.EqualValues(t, 3, st.Messages)
	require.EqualValues(t, len(`{"frag":"é"}`)+4+len(`{"after":1}`), st.Bytes)
	require.Zero(t, st.TotalReconnects())
	require.Zero(t, st.InvalidFrames)
	h.finish(nil, p.close)
}

// RFC 6455 §7.4: the venue's close code and reason reach the host
// (ReasonPeerClosed, websocket.CloseStatus of the error), for every code a
// server may send, with and without a reason, and with no status at all
// (1005 on our side, §7.1.5). §5.5.1: the client answers with a close frame
// echoing the code, and §7.1.1 closes TCP itself: the peer here never
// does. The client then reconnects and subscribes again.
func TestPeerCloseCodes(t *testing.T) {
	codes := []uint16{1000, 1001, 1008, 1011, 1012, 1013, 1014, 3000, 4000, 4999}
	type tc struct {
		code   uint16
		reason string
	}
	var cases []tc
	for _, c := range codes {
		cases = append(cases, tc{c, ""}, tc{c, fmt.Sprintf("reason %d ✓", c)})
	}
	cases = append(cases, tc{0, ""}, tc{1000, strings.Repeat("r", 123)})
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d/%d", c.code, len(c.reason)), func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			echoed := make(chan []byte, 1)
			closedTCP := make(chan struct{})
			p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
				_ = pc.write(text(`{"n":1}`), closeFrame(c.code, c.reason))
				echoed <- recvWait(t, pc.closes, "close answer")
				<-pc.gone // the client, not the peer, ends TCP
				close(closedTCP)
			}))
			h := start(t, p.url(), peerOptions(), &sink{}, leaks)
			lost := conn1Lost(t, h)
			require.Equal(t, ReasonPeerClosed, lost.Reason, "err %v", lost.Err)
			want := websocket.StatusCode(c.code)
			if c.code == 0 {
				want = websocket.StatusNoStatusRcvd
			}
			require.Equal(t, want, websocket.CloseStatus(lost.Err))
			if c.reason != "" {
				require.ErrorContains(t, lost.Err, c.reason)
			}
			ans := <-echoed
			if c.code == 0 {
				require.True(t, len(ans) == 0 || binary.BigEndian.Uint16(ans) == 1000, "answer to a close without status: %x", ans)
			} else {
				require.GreaterOrEqual(t, len(ans), 2)
				require.Equal(t, c.code, binary.BigEndian.Uint16(ans), "the client echoes the code")
			}
			recvWait(t, closedTCP, "client closing TCP")
			h.rec.waitFor(t, "connected on 2", connected(2))
			h.sink.waitFor(t, `{"n":1}`, `{"conn":2}`)
			require.EqualValues(t, 1, h.c.Stats().Reconnects[ReasonPeerClosed])
			h.finish(nil, p.close)
		})
	}
}

// Frames RFC 6455 says a client must fail the connection on (§5.1 masked
// server frames: TestS27MaskedServerFrame; here §5.2 RSV bits without an extension and unknown
// opcodes, §5.4 continuation without a start and a new message inside a
// fragmented one, §5.5 control frames over 125 bytes or fragmented, §7.4
// close codes that may not be sent, §5.5.1 a one-byte close body, §8.1 a
// close reason that is not UTF-8). Each is a read error of connection 1
// (ReasonReadError with an error, nothing delivered from the bad frame),
// never a panic, and the client reconnects and subscribes again.
func TestPeerProtocolErrors(t *testing.T) {
	closeBody := func(code uint16, reason string) []byte {
		return wsFrame(true, 0, opClose, append(binary.BigEndian.AppendUint16(nil, code), reason...), 0)
	}
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"rsv1", wsFrame(true, 0x40, opText, []byte(`{"rsv":1}`), 0)},
		{"rsv2", wsFrame(true, 0x20, opText, []byte(`{"rsv":2}`), 0)},
		{"rsv3", wsFrame(true, 0x10, opText, []byte(`{"rsv":3}`), 0)},
		{"opcode 3", wsFrame(true, 0, 0x3, []byte("x"), 0)},
		{"opcode 7", wsFrame(true, 0, 0x7, []byte("x"), 0)},
		{"opcode 11", wsFrame(true, 0, 0xB, []byte("x"), 0)},
		{"opcode 15", wsFrame(true, 0, 0xF, nil, 0)},
		{"continuation first", wsFrame(true, 0, opCont, []byte(`{"c":1}`), 0)},
		{"new message inside fragments", append(wsFrame(false, 0, opText, []byte(`{"a":`), 0), text(`{"b":1}`)...)},
		{"ping 126 bytes", wsFrame(true, 0, opPing, make([]byte, 126), 0)},
		{"fragmented ping", wsFrame(false, 0, opPing, []byte("p"), 0)},
		{"close 1 byte", wsFrame(true, 0, opClose, []byte{3}, 0)},
		{"close 1005 on the wire", closeBody(1005, "")},
		{"close 1006 on the wire", closeBody(1006, "")},
		{"close 1015 on the wire", closeBody(1015, "")},
		{"close 999", closeBody(999, "")},
		{"close 5000", closeBody(5000, "")},
		{"close reason not UTF-8", closeBody(1000, "\xff\xfe")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
				_ = pc.write(text(`{"n":1}`), tc.frame, text(`{"n":2}`))
				pc.hold()
			}))
			h := start(t, p.url(), peerOptions(), &sink{}, leaks)
			lost := conn1Lost(t, h)
			if tc.name == "close reason not UTF-8" {
				// coder/websocket takes the close frame (§8.1 says fail the
				// connection): either way it ends and the client redials.
				require.Contains(t, []Reason{ReasonReadError, ReasonPeerClosed}, lost.Reason, "err %v", lost.Err)
			} else {
				require.Equal(t, ReasonReadError, lost.Reason, "err %v", lost.Err)
			}
			require.Error(t, lost.Err)
			h.rec.waitFor(t, "connected on 2", connected(2))
			h.sink.waitFor(t, `{"n":1}`, `{"conn":2}`)
			require.Equal(t, []string{`{"n":1}`, `{"conn":2}`}, h.sink.got(), "nothing from or after the bad frame on connection 1")
			require.EqualValues(t, 1, h.c.Stats().Reconnects[lost.Reason])
			h.finish(nil, p.close)
		})
	}
}

// The end of a connection without a close frame (RFC 6455 §7.1.5: 1006
// abnormal closure, seen by us as a read error), in the middle of a frame
// and between messages, and a close frame in the middle of a fragmented
// message (§5.4 lets control frames in; the venue's code still wins). The
// partial message is never delivered; the client reconnects. (The end of
// the connection between two fragments and at other frame boundaries:
// TestS27ConnectionEndsInsideMessage.)
func TestPeerEndsMidMessage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bytes []byte
		want  Reason
	}{
		{"FIN between messages", nil, ReasonReadError},
		{"FIN in a header", []byte{0x81}, ReasonReadError},
		{"FIN in a payload", text(`{"cut":"here"}`)[:8], ReasonReadError},
		{"close between fragments", append(wsFrame(false, 0, opText, []byte(`{"cut":`), 0), closeFrame(1001, "going away")...), ReasonPeerClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
				_ = pc.write(text(`{"n":1}`), tc.bytes)
				if tc.want == ReasonPeerClosed {
					pc.hold()
					return
				}
				_ = pc.c.(*net.TCPConn).CloseWrite() // FIN, no close frame
				pc.hold()
			}))
			h := start(t, p.url(), peerOptions(), &sink{}, leaks)
			lost := requireLost(t, h, tc.want)
			if tc.want == ReasonPeerClosed {
				require.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(lost.Err))
			}
			h.sink.waitFor(t, `{"conn":2}`)
			require.Equal(t, []string{`{"n":1}`, `{"conn":2}`}, h.sink.got())
			h.finish(nil, p.close)
		})
	}
}

// A message over what the client reads to drop (DiscardLimit; here the
// test's own, 1,500 bytes): the doc says "the venue told with status 1009"
// (RFC 6455 §7.4.1, message too big), and the connection is
// re-established.
func TestPeerOversizedTellsVenue1009(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	code := make(chan uint16, 1)
	p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
		// In fragments, none over the limit by itself: a frame whose
		// header says it is over it ends the connection at once, before
		// any byte of it (TestPeerReadLimitBoundary).
		_ = pc.write(wsFrame(false, 0, opText, []byte(strings.Repeat("x", 1000)), 0), wsFrame(true, 0, opCont, []byte(strings.Repeat("x", 1000)), 0))
		if b := recvWait(t, pc.closes, "close frame"); len(b) >= 2 {
			code <- binary.BigEndian.Uint16(b)
		}
		pc.hold()
	}))
	opts := peerOptions()
	opts.ReadLimit, opts.discardLimit = 1000, 1500
	h := start(t, p.url(), opts, &sink{}, leaks)
	require.EqualValues(t, websocket.StatusMessageTooBig, recvWait(t, code, "1009"))
	h.rec.waitFor(t, "connected on 2", connected(2))
	h.finish(nil, p.close)
}

// UTF-8 is checked on the whole message (RFC 6455 §8.1 allows a code point
// split across fragments): a message whose fragments are valid only
// together is delivered; one that is invalid once joined is dropped and
// reported (ErrInvalidUTF8, the doc's choice: the connection is kept).
func TestPeerUTF8AcrossFragments(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	euro := "€" // E2 82 AC
	p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
		_ = pc.write(
			wsFrame(false, 0, opText, []byte(`{"p":"`+euro[:1]), 0),
			wsFrame(false, 0, opCont, []byte(euro[1:2]), 0),
			wsFrame(true, 0, opCont, []byte(euro[2:]+`"}`), 0),
			wsFrame(false, 0, opText, []byte(`{"bad":"`+euro[:2]), 0),
			wsFrame(true, 0, opCont, []byte(`"}`), 0),
			text(`{"n":2}`),
		)
		pc.hold()
	}))
	h := start(t, p.url(), peerOptions(), &sink{}, leaks)
	h.sink.waitFor(t, `{"n":2}`)
	require.Equal(t, []string{`{"p":"€"}`, `{"n":2}`}, h.sink.got())
	ev := h.rec.waitFor(t, "invalid frame", func(ev Event) bool { return ev.Reason == ReasonInvalidFrame })
	require.ErrorIs(t, ev.Err, ErrInvalidUTF8)
	st := h.c.Stats()
	require.EqualValues(t, 1, st.InvalidFrames)
	require.EqualValues(t, 2, st.Messages)
	require.Zero(t, st.TotalReconnects())
	h.finish(nil, p.close)
}

// Pongs (RFC 6455 §5.5.3): a pong that does not echo the ping's payload
// does not answer it, and a venue that never answers is caught by the pong
// timeout on the Clock (ErrPongTimeout), while a venue that answers keeps
// the connection however long the Clock runs.
func TestPeerPongs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(pc *peerConn, ping []byte)
		dies   bool
	}{
		{"echo", func(pc *peerConn, ping []byte) { _ = pc.write(wsFrame(true, 0, opPong, ping, 0)) }, false},
		{"wrong payload", func(pc *peerConn, ping []byte) { _ = pc.write(wsFrame(true, 0, opPong, append(ping, 'x'), 0)) }, true},
		{"no answer", func(*peerConn, []byte) {}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, firstPeer(false, func(pc *peerConn) {
				for {
					var payload []byte
					select {
					case <-pc.msgs:
						continue
					case payload = <-pc.pings:
					case <-pc.gone:
						return
					case <-pc.done:
						return
					}
					tc.answer(pc, payload)
				}
			}))
			opts := peerOptions()
			opts.PingInterval = 100 * time.Millisecond
			opts.PongTimeout = 400 * time.Millisecond
			h := start(t, p.url(), opts, &sink{}, leaks)
			h.rec.waitFor(t, "connected", connected(1))
			cn := h.live()
			for i := 0; i < 40 && !h.lostConn1(); i++ {
				tickWatchdog(t, h, cn, opts.PongTimeout/8)
				if !tc.dies {
					// The pong must be back before the next tick counts.
					require.Eventually(t, func() bool { return cn.ping.Load()%2 == 0 }, wait, time.Millisecond)
				}
			}
			if !tc.dies {
				require.Zero(t, h.c.Stats().TotalReconnects())
				require.Positive(t, h.c.Stats().PingRTT)
				h.finish(nil, p.close)
				return
			}
			require.ErrorIs(t, requireLost(t, h, ReasonPongTimeout).Err, ErrPongTimeout)
			h.finish(nil, p.close)
		})
	}
}
