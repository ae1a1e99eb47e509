package wsclient

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// Close codes (RFC 6455 §7.4.1-2 and the IANA registry): those that must
// never be on the wire (1005, 1006, 1015), reserved or unassigned ones
// (0-999, 1004, 1016-2999) and those past 4999 are a protocol error: a
// read error of connection 1 (coder/websocket's check). Every defined code
// a server may send and the registered/private ranges (3000-4999) are the
// venue's close: ReasonPeerClosed with its code. Either way nothing after
// the close frame is delivered and the client redials.
func TestS27CloseCodeRanges(t *testing.T) {
	bad := []uint16{0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}
	good := []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3999, 4500}
	type tc struct {
		code uint16
		want Reason
	}
	var cases []tc
	for _, c := range bad {
		cases = append(cases, tc{c, ReasonReadError})
	}
	for _, c := range good {
		cases = append(cases, tc{c, ReasonPeerClosed})
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.code), func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
				body := append(binary.BigEndian.AppendUint16(nil, c.code), 'r') // code 0 on the wire too
				_ = pc.write(text(`{"n":1}`), wsFrame(true, 0, opClose, body, 0), text(`{"n":2}`))
				pc.hold()
			}))
			h := start(t, p.url(), peerOptions(), &sink{}, leaks)
			lost := conn1Lost(t, h)
			require.Equal(t, c.want, lost.Reason, "err %v", lost.Err)
			if c.want == ReasonPeerClosed {
				require.Equal(t, websocket.StatusCode(c.code), websocket.CloseStatus(lost.Err))
			} else {
				require.Equal(t, websocket.StatusCode(-1), websocket.CloseStatus(lost.Err))
			}
			h.rec.waitFor(t, "connected on 2", connected(2))
			require.EqualValues(t, 1, h.c.Stats().Reconnects[c.want])
			h.sink.waitFor(t, `{"conn":2}`)
			require.Equal(t, []string{`{"n":1}`, `{"conn":2}`}, h.sink.got())
			h.finish(nil, p.close)
		})
	}
}

// A close reason that is not UTF-8 (RFC 6455 §8.1 says fail the
// connection; coder/websocket does not check it). The client keeps
// coder/websocket's leniency, as its doc says: the connection ends either
// way, and the venue's code is what decides the redial (1013: not before
// TryAgainDelay), which failing it as a protocol error would lose.
func TestS27CloseReasonNotUTF8KeepsCode(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
		_ = pc.write(closeFrame(1013, "\xff\xfe later"))
		pc.hold()
	}))
	opts := peerOptions()
	h := start(t, p.url(), opts, &sink{}, leaks)
	lost := conn1Lost(t, h)
	require.Equal(t, ReasonPeerClosed, lost.Reason, "err %v", lost.Err)
	require.Equal(t, websocket.StatusTryAgainLater, websocket.CloseStatus(lost.Err))
	re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.GreaterOrEqual(t, re.Delay, opts.TryAgainDelay)
	h.finish(nil, p.close)
}

// Empty messages and empty fragments (RFC 6455 §5.4 allows both): an empty
// text and an empty binary message are delivered as empty messages, a
// message of empty fragments around a control frame is delivered whole,
// and none of them ends the connection or counts as invalid.
func TestS27EmptyFrames(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
		_ = pc.write(
			text(""),
			wsFrame(true, 0, opBinary, nil, 0),
			wsFrame(false, 0, opText, nil, 0),
			wsFrame(false, 0, opCont, []byte(`{"e":`), 0),
			wsFrame(true, 0, opPing, nil, 0),
			wsFrame(false, 0, opCont, nil, 0),
			wsFrame(true, 0, opCont, []byte(`1}`), 0),
			wsFrame(false, 0, opBinary, nil, 0),
			wsFrame(true, 0, opCont, nil, 0),
			text(`{"n":2}`),
		)
		pc.hold()
	}))
	var mu sync.Mutex
	var binary []bool
	k := &sink{hook: func(f *schema.WsFrame) error {
		mu.Lock()
		defer mu.Unlock()
		binary = append(binary, f.Binary)
		return nil
	}}
	h := start(t, p.url(), peerOptions(), k, leaks)
	k.waitFor(t, `{"n":2}`)
	require.Equal(t, []string{"", "", `{"e":1}`, "", `{"n":2}`}, k.got())
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(binary) == 5 }, wait, time.Millisecond)
	mu.Lock()
	require.Equal(t, []bool{false, true, false, true, false}, binary)
	mu.Unlock()
	require.Empty(t, recvWait(t, p.conn(1).pongs, "pong"))
	st := h.c.Stats()
	require.Zero(t, st.TotalReconnects())
	require.Zero(t, st.InvalidFrames)
	require.Zero(t, st.HandlerErrors)
	h.finish(nil, p.close)
}

// Payload lengths (RFC 6455 §5.2): a 64-bit length with its most
// significant bit set ("MUST be 0") is a read error; a message over
// Options.ReadLimit, in any of the three encodings, is dropped
// (ReasonOversized reported, the connection kept); a length announced
// over DiscardLimit ends the connection at the frame's header
// (ReasonOversized, re-established); a length that fits is
// read even when it uses a longer encoding than needed (the RFC's "minimal
// number of bytes" is the sender's duty; coder/websocket and the client
// do not refuse it).
func TestS27PayloadLengths(t *testing.T) {
	const limit = 1000
	hdr64 := func(op byte, n uint64) []byte {
		return binary.BigEndian.AppendUint64([]byte{0x80 | op, 127}, n)
	}
	for _, tc := range []struct {
		name  string
		bytes []byte
		want  Reason
	}{
		{"64-bit MSB set", append(hdr64(opText, 1<<63|5), "hello"...), ReasonReadError},
		{"64-bit all ones", append(hdr64(opBinary, ^uint64(0)), "hello"...), ReasonReadError},
		{"64-bit huge", append(hdr64(opText, 1<<40), strings.Repeat("x", limit+1)...), ReasonOversized},
		{"16-bit over the limit", wsFrame(true, 0, opText, []byte(strings.Repeat("x", limit+1)), 0), ReasonInvalidFrame},
		{"64-bit over the limit", append(hdr64(opText, limit+1), strings.Repeat("x", limit+1)...), ReasonInvalidFrame},
		{"fragments over the limit", append(wsFrame(false, 0, opText, []byte(strings.Repeat("x", limit)), 0), wsFrame(true, 0, opCont, []byte("y"), 0)...), ReasonInvalidFrame},
		{"64-bit encoding of 5", append(hdr64(opText, 5), "hello"...), ReasonNone},
		{"16-bit encoding of 5", append([]byte{0x81, 126, 0, 5}, "hello"...), ReasonNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
				_ = pc.write(text(`{"n":1}`), tc.bytes, text(`{"n":2}`))
				pc.hold()
			}))
			opts := peerOptions()
			opts.ReadLimit = limit
			h := start(t, p.url(), opts, &sink{}, leaks)
			switch tc.want {
			case ReasonNone:
				h.sink.waitFor(t, `{"n":2}`)
				require.Equal(t, []string{`{"n":1}`, "hello", `{"n":2}`}, h.sink.got())
				require.Zero(t, h.c.Stats().TotalReconnects())
				h.finish(nil, p.close)
				return
			case ReasonInvalidFrame: // here: over ReadLimit, dropped
				h.sink.waitFor(t, `{"n":2}`)
				require.Equal(t, []string{`{"n":1}`, `{"n":2}`}, h.sink.got())
				h.rec.waitFor(t, "oversized reported", func(ev Event) bool { return ev.Reason == ReasonOversized })
				require.EqualValues(t, 1, h.c.Stats().Oversized)
				require.Zero(t, h.c.Stats().TotalReconnects())
				h.finish(nil, p.close)
				return
			}
			requireLost(t, h, tc.want)
			h.sink.waitFor(t, `{"conn":2}`)
			require.Equal(t, []string{`{"n":1}`, `{"conn":2}`}, h.sink.got())
			if tc.want == ReasonOversized {
				require.EqualValues(t, 1, h.c.Stats().Oversized)
			}
			h.finish(nil, p.close)
		})
	}
}

// A TCP reset (RST) in the middle of a frame, of a fragmented message and
// of a close frame: a read error, nothing of the message delivered, and
// the client redials.
func TestS27ResetMidFrame(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bytes []byte
	}{
		{"payload", text(`{"cut":"here"}`)[:6]},
		{"header", wsFrame(true, 0, opBinary, make([]byte, 300), 0)[:3]},
		{"fragments", wsFrame(false, 0, opText, []byte(`{"cut":`), 0)},
		{"close frame", closeFrame(1001, "going away")[:5]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
				_ = pc.write(text(`{"n":1}`), tc.bytes)
				_ = pc.c.(*net.TCPConn).SetLinger(0) // close sends RST
				_ = pc.c.Close()
			}))
			h := start(t, p.url(), peerOptions(), &sink{}, leaks)
			requireLost(t, h, ReasonReadError)
			h.sink.waitFor(t, `{"conn":2}`)
			require.Equal(t, []string{`{"n":1}`, `{"conn":2}`}, h.sink.got())
			h.finish(nil, p.close)
		})
	}
}

// More handshake answers a client must refuse (RFC 6455 §4.1, the client's
// checks): a 101 without Connection: Upgrade, with Connection: keep-alive,
// with Upgrade: h2c, and a 200 with a body (a plain web server at the
// venue's address). Each fails the dial (ReasonDial; a 200 is a
// *HandshakeError with its status), nothing is delivered from it, and the
// next dial succeeds.
func TestS27HandshakeRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(key string) string
		status int
	}{
		{"no connection", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
		}, 0},
		{"connection keep-alive", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
		}, 0},
		{"upgrade h2c", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
		}, 0},
		{"200 with a body", func(string) string {
			return "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>"
		}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, steadyPeer)
			p.answer = func(w io.Writer, n int, key string) bool {
				if n > 1 {
					return answer101(w, key)
				}
				_, _ = io.WriteString(w, tc.answer(key)+string(text(`{"bad":1}`)))
				return false
			}
			h := start(t, p.url(), peerOptions(), &sink{}, leaks)
			re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
			require.Equal(t, ReasonDial, re.Reason)
			var he *HandshakeError
			if tc.status != 0 {
				require.ErrorAs(t, re.Err, &he)
				require.Equal(t, tc.status, he.StatusCode)
			} else {
				require.Error(t, re.Err)
			}
			h.rec.waitFor(t, "connected", connected(1))
			h.sink.waitFor(t, `{"conn":2}`)
			require.Equal(t, []string{`{"conn":2}`}, h.sink.got())
			h.finish(nil, p.close)
		})
	}
}

// A message that never ends while frames keep coming (RFC 6455 §5.4 sets
// no bound on the number of fragments): empty continuation frames, or
// pings between two fragments, each well within IdleTimeout of the one
// before. No payload grows, so ReadLimit never ends it; frames are not
// messages, so the idle watchdog does (ErrIdle), and the part received is
// never delivered.
func TestS27EndlessMessageIsIdle(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"empty fragments", wsFrame(false, 0, opCont, nil, 0)},
		{"pings", wsFrame(true, 0, opPing, []byte("p"), 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			step := make(chan struct{})
			p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
				_ = pc.write(text(`{"n":1}`), wsFrame(false, 0, opText, []byte(`{"never":`), 0))
				for pc.stepped(step) && pc.write(tc.frame) == nil {
				}
			}))
			opts := peerOptions()
			opts.IdleTimeout = time.Second
			k := &sink{}
			h := start(t, p.url(), opts, k, leaks)
			h.rec.waitFor(t, "connected", connected(1))
			k.waitFor(t, `{"n":1}`)
			stepUntilDead(t, h, h.live(), step) // one more frame, then a tick of the clock
			lost := requireLost(t, h, ReasonIdle)
			require.ErrorIs(t, lost.Err, ErrIdle)
			k.waitFor(t, `{"n":1}`, `{"conn":2}`)
			require.Equal(t, []string{`{"n":1}`, `{"conn":2}`}, k.got(), "the endless message never delivered")
			h.finish(nil, p.close)
		})
	}
}

// stepped waits for the test's step: false when the client or the peer
// ended the connection first.
func (pc *peerConn) stepped(step <-chan struct{}) bool {
	select {
	case <-step:
		return true
	case <-pc.gone:
	case <-pc.done:
	}
	return false
}

// stepUntilDead lets the peer send one more piece (a step) and then moves
// the clock by one watchdog tick, until cn dies. The clock moves only
// while cn lives: moved on after, it would idle out the next connection
// before its first message.
func stepUntilDead(t *testing.T, h *harness, cn *conn, step chan<- struct{}) {
	t.Helper()
	tick := h.c.watchdogTick()
	for {
		select {
		case step <- struct{}{}:
			tickWatchdog(t, h, cn, tick)
		case <-cn.dead:
			return
		case <-time.After(wait):
			t.Fatal("the peer stopped sending")
		}
	}
}
