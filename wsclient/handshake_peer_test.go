package wsclient

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// A message of exactly Options.ReadLimit bytes is accepted, whole or in
// fragments; one byte more is an *OversizedError (the doc: "A message over
// Options.ReadLimit"), also when only the sum of its fragments exceeds it:
// dropped, the connection kept and the next message delivered. A frame
// whose header claims more than DiscardLimit ends the connection at its
// header: it is re-established.
func TestPeerReadLimitBoundary(t *testing.T) {
	const limit = 1000
	body := func(n int) string { return `{"` + strings.Repeat("a", n-4) + `"}` }
	const (
		accepted = iota
		dropped
		cut
	)
	for _, tc := range []struct {
		name   string
		frames [][]byte
		want   int
	}{
		{"exact", [][]byte{text(body(limit))}, accepted},
		{"exact in fragments", [][]byte{
			wsFrame(false, 0, opText, []byte(body(limit)[:600]), 0),
			wsFrame(true, 0, opCont, []byte(body(limit)[600:]), 0),
		}, accepted},
		{"one over", [][]byte{text(body(limit + 1))}, dropped},
		{"one over in fragments", [][]byte{
			wsFrame(false, 0, opText, []byte(body(limit + 1)[:limit]), 0),
			wsFrame(true, 0, opCont, []byte(body(limit + 1)[limit:]), 0),
		}, dropped},
		{"header claims 2^62", [][]byte{append([]byte{0x81, 127, 0x40, 0, 0, 0, 0, 0, 0, 0}, body(limit+1)...)}, cut},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := newRawPeer(t, faultyPeer(func(pc *peerConn) {
				_ = pc.write(tc.frames...)
				_ = pc.write(text(`{"n":2}`))
				pc.hold()
			}))
			opts := peerOptions()
			opts.ReadLimit = limit
			h := start(t, p.url(), opts, &sink{}, leaks)
			switch tc.want {
			case accepted:
				h.sink.waitFor(t, `{"n":2}`)
				require.Equal(t, []string{body(limit), `{"n":2}`}, h.sink.got())
				require.Zero(t, h.c.Stats().TotalReconnects())
				h.finish(nil, p.close)
				return
			case dropped:
				h.sink.waitFor(t, `{"n":2}`)
				require.Equal(t, []string{`{"n":2}`}, h.sink.got())
				ev := h.rec.waitFor(t, "oversized reported", func(ev Event) bool { return ev.Reason == ReasonOversized })
				var oe *OversizedError
				require.ErrorAs(t, ev.Err, &oe)
				require.EqualValues(t, limit, oe.Limit)
				require.EqualValues(t, limit+1, oe.Size)
				require.EqualValues(t, 1, h.c.Stats().Oversized)
				require.Zero(t, h.c.Stats().TotalReconnects())
				h.finish(nil, p.close)
				return
			}
			lost := conn1Lost(t, h)
			require.Equal(t, ReasonOversized, lost.Reason, "err %v", lost.Err)
			var oe *OversizedError
			require.ErrorAs(t, lost.Err, &oe)
			require.EqualValues(t, DiscardLimit, oe.Limit, "the limit it passed")
			require.Zero(t, oe.Size, "not read")
			h.rec.waitFor(t, "connected on 2", connected(2))
			h.sink.waitFor(t, `{"conn":2}`)
			require.Equal(t, []string{`{"conn":2}`}, h.sink.got())
			require.EqualValues(t, 1, h.c.Stats().Oversized)
			h.finish(nil, p.close)
		})
	}
}

// The handshake answer is checked (RFC 6455 §4.1, the client's checks
// 1-6): a 101 with a wrong Sec-WebSocket-Accept, without Upgrade or
// Connection, or with an extension or subprotocol the client did not ask
// for fails the dial (ReasonDial, retried after the backoff: a proxy in the
// way may go), and nothing is delivered from it. The next dial succeeds.
// The refused connection is closed by the client.
func TestPeerBadHandshakeAnswer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(key string) string
	}{
		{"wrong accept", func(string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey("wrong") + "\r\n\r\n"
		}},
		{"no accept", func(string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
		}},
		{"no upgrade", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
		}},
		{"unasked deflate", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) +
				"\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
		}},
		{"unasked subprotocol", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) +
				"\r\nSec-WebSocket-Protocol: v9\r\n\r\n"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			refusedGone := make(chan struct{})
			p := newRawPeer(t, steadyPeer)
			p.answer = func(w io.Writer, n int, key string) bool {
				if n > 1 {
					_, err := io.WriteString(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+acceptKey(key)+"\r\n\r\n")
					return err == nil
				}
				// The bad answer and a frame in the same write; then the
				// peer waits for the client to close the connection.
				_, _ = io.WriteString(w, tc.answer(key)+string(text(`{"bad":1}`)))
				_, _ = io.Copy(io.Discard, p.conn(1).c)
				close(refusedGone)
				return false
			}
			h := start(t, p.url(), peerOptions(), &sink{}, leaks)
			re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
			require.Equal(t, ReasonDial, re.Reason)
			require.Error(t, re.Err)
			recvWait(t, refusedGone, "refused connection closed by the client")
			h.rec.waitFor(t, "connected on 1", connected(1))
			h.sink.waitFor(t, `{"conn":2}`)
			require.Equal(t, []string{`{"conn":2}`}, h.sink.got())
			require.EqualValues(t, 1, h.c.Stats().Reconnects[ReasonDial])
			h.finish(nil, p.close)
		})
	}
}

// A 101 followed at once, in the same TCP segment, by frames: nothing the
// HTTP layer read ahead is lost.
func TestPeerFramesWithHandshake(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, func(pc *peerConn) { pc.readClient(); pc.hold() })
	p.answer = func(w io.Writer, _ int, key string) bool {
		var b []byte
		b = append(b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+acceptKey(key)+"\r\n\r\n"...)
		for i := range 50 {
			b = append(b, text(fmt.Sprintf(`{"i":%d}`, i))...)
		}
		_, err := w.Write(b)
		return err == nil
	}
	h := start(t, p.url(), peerOptions(), &sink{}, leaks)
	require.Eventually(t, func() bool { return len(h.sink.got()) == 50 }, wait, time.Millisecond)
	for i, m := range h.sink.got() {
		require.Equal(t, fmt.Sprintf(`{"i":%d}`, i), m)
	}
	h.finish(nil, p.close)
}

// A server that accepts TCP and never answers the upgrade: the dial times
// out after Options.DialTimeout on the Clock (ReasonDial, retried), and
// Close while a dial hangs returns, with nothing left running.
func TestPeerHandshakeNeverAnswered(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	// Upgrade requests read, not TCP connections: net/http may send the
	// redial on a connection it opened for the first dial but did not use
	// before the timeout.
	var asked atomic.Int32
	p.answer = func(io.Writer, int, string) bool {
		asked.Add(1)
		<-p.done
		return false
	}
	opts := peerOptions()
	opts.DialTimeout = 5 * time.Second
	fc := newFakeClock()
	fc.blockSlp = true
	opts.Clock = fc
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.clock = fc
	require.Eventually(t, func() bool { return asked.Load() == 1 }, wait, time.Millisecond)
	require.Eventually(t, func() bool { return fc.armedAt(fc.Now().Add(opts.DialTimeout)) }, wait, time.Millisecond)
	fc.advance(opts.DialTimeout)
	re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.Equal(t, ReasonDial, re.Reason)
	require.ErrorIs(t, re.Err, context.DeadlineExceeded)
	require.Equal(t, schema.ConnReconnecting, h.c.State())
	// Redial, which hangs too; Close it while it hangs.
	require.Eventually(t, func() bool { return len(fc.sleepingUntil()) == 1 }, wait, time.Millisecond)
	fc.advanceTo(fc.sleepingUntil()[0])
	require.Eventually(t, func() bool { return asked.Load() == 2 }, wait, time.Millisecond,
		"no redial: now %v sleeps %v events %v", fc.Now(), fc.sleepingUntil(), h.rec.all())
	h.finish(nil, p.close)
}
