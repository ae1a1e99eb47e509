package wsclient

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// The tests of this file run wsclient against npm ws (nodePeer), a
// WebSocket server written by someone else, and check what doc.go
// promises against it.

// startOnNode starts a client on p and waits until connection 1 is up on
// both sides (the subscriptions read by the peer).
func startOnNode(t *testing.T, p *nodePeer, opts *Options, k *sink, leaks goleak.Option) *harness {
	t.Helper()
	h := start(t, p.url(), opts, k, leaks)
	h.rec.waitFor(t, "connected on 1", connected(1))
	p.opened(1)
	p.until("the subscriptions", func() bool { return p.count("message", 1) >= len(testSubs) })
	return h
}

// The client's Close: the close handshake with 1000 (the peer sees a
// normal closure, not 1006), Run returns, no goroutine is left.
func TestS32peerClientCloses(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := startNodePeer(t)
	h := startOnNode(t, p, peerOptions(), &sink{}, leaks)
	subs := p.all(func(f []string) bool { return f[0] == "message" && f[1] == "1" })
	require.Equal(t, []string{"text", hx(testSubs[0])}, subs[0][2:])
	require.Equal(t, []string{"text", hx(testSubs[1])}, subs[1][2:])
	p.do(1, "text", hx(`{"hello":1}`))
	h.sink.waitFor(t, `{"hello":1}`)
	// Closed without moving the clock: the handshake's bound
	// (CloseTimeout) never passes, so the peer's answer ends it. Moved
	// on, the bound may pass before the close frame is written, and the
	// socket is cut (1006), as the doc says.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, h.c.Close(ctx))
	code, _ := p.closed(1)
	require.Equal(t, int(websocket.StatusNormalClosure), code)
	h.finish(nil, p.close)
}

// The peer closes with a code and a reason: the host sees both
// (ReasonPeerClosed, a websocket.CloseError), the peer gets its code
// back, and the redial waits for the floor the code sets.
func TestS32peerPeerCloses(t *testing.T) {
	for _, tc := range []struct {
		code  websocket.StatusCode
		floor time.Duration
	}{
		{websocket.StatusGoingAway, 0},
		{websocket.StatusPolicyViolation, DefaultBackoffCap},
		{websocket.StatusTryAgainLater, DefaultTryAgainDelay},
		{4001, 0},
	} {
		t.Run(strconv.Itoa(int(tc.code)), func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := startNodePeer(t)
			opts := peerOptions()
			opts.BackoffBase = time.Millisecond
			h := startOnNode(t, p, opts, &sink{}, leaks)
			p.do(1, "close", strconv.Itoa(int(tc.code)), hx("maintenance é"))
			lost := conn1Lost(t, h)
			require.Equal(t, ReasonPeerClosed, lost.Reason, "err %v", lost.Err)
			var ce websocket.CloseError
			require.ErrorAs(t, lost.Err, &ce)
			require.Equal(t, tc.code, ce.Code)
			require.Equal(t, "maintenance é", ce.Reason)
			code, _ := p.closed(1)
			require.Equal(t, int(tc.code), code, "the peer gets its code back")
			re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
			if tc.floor == 0 {
				require.LessOrEqual(t, re.Delay, opts.BackoffBase)
			} else {
				require.GreaterOrEqual(t, re.Delay, tc.floor)
			}
			h.rec.waitFor(t, "connected on 2", connected(2))
			p.opened(2)
			h.finish(nil, p.close)
		})
	}
}

// Fragmented messages (ws.send with fin: false) with a ping (its payload
// echoed in the pong), an unsolicited pong and a UTF-8 character split
// across fragments between them, text and binary: each delivered whole,
// once, with its kind; nothing reported, the connection kept.
func TestS32peerFragmentsWithControlFrames(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := startNodePeer(t)
	var mu sync.Mutex
	binary := map[string]bool{}
	k := &sink{hook: func(f *schema.WsFrame) error {
		mu.Lock()
		binary[string(f.Data)] = f.Binary
		mu.Unlock()
		return nil
	}}
	h := startOnNode(t, p, peerOptions(), k, leaks)
	ping := strings.Repeat("q", 125)
	p.do(1, "frag", "text", "0", hx(`{"s":"caf`)+"c3")
	p.do(1, "ping", hx(ping))
	p.do(1, "frag", "text", "0", "")
	p.do(1, "pong", hx("unsolicited"))
	p.do(1, "frag", "text", "1", "a9"+hx(`"}`))
	p.do(1, "frag", "binary", "0", "00ff")
	p.do(1, "ping", "")
	p.do(1, "frag", "binary", "1", "1f8b")
	p.do(1, "text", hx(`{"after":1}`))
	k.waitFor(t, `{"s":"café"}`, "\x00\xff\x1f\x8b", `{"after":1}`)
	require.Equal(t, []string{`{"s":"café"}`, "\x00\xff\x1f\x8b", `{"after":1}`}, k.got())
	mu.Lock()
	require.Equal(t, map[string]bool{`{"s":"café"}`: false, "\x00\xff\x1f\x8b": true, `{"after":1}`: false}, binary)
	mu.Unlock()
	p.until("the pongs", func() bool { return p.count("pong", 1) == 2 })
	pongs := p.all(func(f []string) bool { return f[0] == "pong" && f[1] == "1" })
	require.Equal(t, hx(ping), pongs[0][2], "the ping's payload echoed")
	require.Len(t, pongs[1], 2, "an empty ping, an empty pong")
	st := h.c.Stats()
	require.Zero(t, st.TotalReconnects())
	require.Zero(t, st.InvalidFrames)
	require.EqualValues(t, 3, st.Messages)
	h.finish(nil, p.close)
}

// The peer ends TCP without a close frame (ws.terminate): inside a
// message (between its fragments, or inside a frame: a message handed to
// the socket and destroyed before it was all sent), the part is not
// delivered and the loss is ErrMessageCut;
// between messages, the message before is delivered and the loss is a
// read error. Either way the client redials and resubscribes.
func TestS32peerTerminates(t *testing.T) {
	for _, where := range []string{"between messages", "between fragments", "inside a frame"} {
		t.Run(where, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := startNodePeer(t)
			h := startOnNode(t, p, peerOptions(), &sink{}, leaks)
			p.do(1, "text", hx(`{"before":1}`))
			switch where {
			case "between messages":
				p.do(1, "terminate")
			case "between fragments":
				p.do(1, "frag", "text", "0", hx(`{"part":`+strings.Repeat("x", 3000)))
				p.do(1, "terminate")
			default: // 16 MiB handed to the socket, destroyed before it is all sent
				p.do(1, "fillterminate", strconv.Itoa(16<<20), "x")
			}
			lost := requireLost(t, h, ReasonReadError)
			if mid := where != "between messages"; mid {
				require.ErrorIs(t, lost.Err, ErrMessageCut)
			} else {
				require.NotErrorIs(t, lost.Err, ErrMessageCut)
			}
			p.opened(2)
			p.until("resubscribed", func() bool { return p.count("message", 2) >= len(testSubs) })
			p.do(2, "text", hx(`{"conn":2}`))
			h.sink.waitFor(t, `{"conn":2}`)
			require.Equal(t, []string{`{"before":1}`, `{"conn":2}`}, h.sink.got())
			h.finish(nil, p.close)
		})
	}
}

// Large messages: one under Options.ReadLimit is delivered intact; one
// over it is read to its end and dropped, an *OversizedError, and the
// connection kept: the next message is delivered.
func TestS32peerLargeMessages(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := startNodePeer(t)
	opts := peerOptions()
	opts.ReadLimit = 4 << 20
	h := startOnNode(t, p, opts, &sink{}, leaks)
	p.do(1, "fill", strconv.Itoa(4<<20), "y")
	require.Eventually(t, func() bool { return len(h.sink.got()) == 1 }, nodeWait, time.Millisecond)
	require.Equal(t, strings.Repeat("y", 4<<20), h.sink.got()[0])
	p.do(1, "fill", strconv.Itoa(4<<20+1), "z")
	p.do(1, "fill", "3", "w")
	require.Eventually(t, func() bool { return len(h.sink.got()) == 2 }, nodeWait, time.Millisecond)
	require.Equal(t, "www", h.sink.got()[1], "the message after the oversized one, on the same connection")
	over := h.rec.waitFor(t, "oversized", func(ev Event) bool { return ev.Reason == ReasonOversized })
	var oe *OversizedError
	require.ErrorAs(t, over.Err, &oe)
	require.EqualValues(t, 4<<20, oe.Limit)
	require.EqualValues(t, 4<<20+1, oe.Size)
	require.Zero(t, h.c.Stats().TotalReconnects())
	h.finish(nil, p.close)
}

// A ping flood from the peer (thousands in a burst, payloads of their
// own) with a message after it: unpaced, every ping is answered with its
// payload; paced (Options.ControlRate), pings within a gap of the last
// pong are not answered, and the message behind them is not held. The
// connection is kept either way.
func TestS32peerPingFlood(t *testing.T) {
	const pings = 1000
	for _, paced := range []bool{false, true} {
		t.Run("paced="+strconv.FormatBool(paced), func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := startNodePeer(t)
			opts := peerOptions()
			if paced {
				opts.ControlRate = 0 // the default
			}
			h := startOnNode(t, p, opts, &sink{}, leaks)
			p.do(1, "pingflood", strconv.Itoa(pings), hx(`{"after":"flood"}`))
			p.until("the message after the flood delivered", func() bool { return len(h.sink.got()) == 1 })
			require.Equal(t, []string{`{"after":"flood"}`}, h.sink.got())
			if !paced {
				p.until("every pong", func() bool { return p.count("pong", 1) == pings })
				pongs := p.all(func(f []string) bool { return f[0] == "pong" && f[1] == "1" })
				for i, f := range pongs {
					want := hx(strings.Repeat("p", i%126))
					if want == "" {
						require.Len(t, f, 2, "pong %d", i)
					} else {
						require.Equal(t, want, f[2], "pong %d", i)
					}
				}
			} else {
				p.until("a pong", func() bool { return p.count("pong", 1) >= 1 })
			}
			p.do(1, "text", hx(`{"still":1}`))
			h.sink.waitFor(t, `{"still":1}`)
			require.Zero(t, h.c.Stats().TotalReconnects())
			h.finish(nil, p.close)
		})
	}
}

// A peer that pings every few milliseconds (a proxy's keepalive, or a
// venue's) while it sends data: every ping answered (unpaced), data
// delivered, the connection kept.
func TestS32peerPingsEveryFewMs(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := startNodePeer(t)
	h := startOnNode(t, p, peerOptions(), &sink{}, leaks)
	const n = 50
	p.do(1, "pingevery", "2", strconv.Itoa(n))
	p.until("every pong", func() bool { return p.count("pong", 1) == n })
	for i, f := range p.all(func(f []string) bool { return f[0] == "pong" && f[1] == "1" }) {
		require.Equal(t, hx(strconv.Itoa(i)), f[2])
	}
	p.do(1, "text", hx(`{"after":1}`))
	h.sink.waitFor(t, `{"after":1}`)
	require.Zero(t, h.c.Stats().TotalReconnects())
	h.finish(nil, p.close)
}

// A peer that never answers our ping (ws's autoPong: false): the pong
// timeout ends the connection (ErrPongTimeout) on the injected clock,
// while data still arrives.
func TestS32peerNeverAnswersPing(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := startNodePeer(t, "--no-auto-pong")
	opts := peerOptions()
	opts.PingInterval = time.Second
	opts.PongTimeout = 3 * time.Second
	h := startOnNode(t, p, opts, &sink{}, leaks)
	cn := h.live()
	// The pinger's first ping, then the watchdog's ticks while the
	// reader waits, until the connection dies.
	require.Eventually(t, func() bool {
		select {
		case <-cn.dead:
			return true
		default:
		}
		h.clock.advance(h.c.watchdogTick())
		return false
	}, nodeWait, time.Millisecond, "the connection never died; events: %v", h.rec.all())
	lost := conn1Lost(t, h)
	require.Equal(t, ReasonPongTimeout, lost.Reason, "err %v", lost.Err)
	require.ErrorIs(t, lost.Err, ErrPongTimeout)
	p.until("our ping", func() bool { return p.count("ping", 1) >= 1 })
	require.Zero(t, p.count("pong", 1))
	h.finish(nil, p.close)
}

// A peer that supports permessage-deflate (ws's perMessageDeflate: true):
// the client does not offer it, so the peer sends plain frames, delivered
// as sent. A peer that names the extension in its answer unasked fails
// the dial (RFC 6455 §9.1), reported and redialled, never a connection
// whose frames would be misread.
func TestS32peerDeflate(t *testing.T) {
	t.Run("supported", func(t *testing.T) {
		leaks := goleak.IgnoreCurrent()
		p := startNodePeer(t, "--deflate")
		h := startOnNode(t, p, peerOptions(), &sink{}, leaks)
		require.Equal(t, "-", p.opened(1)[2], "no extension offered")
		big := `{"pad":"` + strings.Repeat("z", 5000) + `"}`
		p.do(1, "text", hx(big))
		h.sink.waitFor(t, big)
		h.finish(nil, p.close)
	})
	t.Run("insisted on", func(t *testing.T) {
		leaks := goleak.IgnoreCurrent()
		p := startNodePeer(t, "--insist-deflate")
		h := start(t, p.url(), peerOptions(), &sink{}, leaks)
		ev := h.rec.waitFor(t, "a dial error", func(ev Event) bool {
			return ev.State == schema.ConnReconnecting && ev.Reason == ReasonDial
		})
		require.ErrorContains(t, ev.Err, "extension")
		require.Zero(t, h.c.Stats().Messages)
		h.finish(nil, p.close)
	})
}

// A rotation (Client.Rotate, as on Binance's serverShutdown) against a
// peer that broadcasts the same frames to every connection, as Binance's
// market streams do: the handler sees each message once, in order, across
// the switch; the old connection is closed with 1000.
func TestS32peerRotationOnBroadcast(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := startNodePeer(t)
	opts := peerOptions()
	opts.RotationOverlap = time.Hour // aligned, never switched by the bound
	h := startOnNode(t, p, opts, &sink{}, leaks)
	msg := func(i int) string { return `{"seq":` + strconv.Itoa(i) + `}` }
	var want []string
	for i := 1; i <= 3; i++ {
		p.do(0, "text", hx(msg(i)))
		want = append(want, msg(i))
	}
	h.sink.waitFor(t, want...)
	require.NoError(t, h.c.Rotate())
	h.rec.waitFor(t, "rotating", rotating(1))
	p.opened(2)
	p.until("subscribed 2", func() bool { return p.count("message", 2) >= len(testSubs) })
	for i := 4; i <= 8; i++ {
		p.do(0, "text", hx(msg(i)))
		want = append(want, msg(i))
	}
	h.rec.waitFor(t, "connected on 2", func(ev Event) bool {
		return ev.State == schema.ConnConnected && ev.ConnID == 2 && ev.Reason == ReasonRotation && ev.Err == nil
	})
	code, _ := p.closed(1)
	require.Equal(t, int(websocket.StatusNormalClosure), code, "the old connection closed with 1000")
	p.do(0, "text", hx(msg(9)))
	want = append(want, msg(9))
	h.sink.waitFor(t, msg(9))
	require.Equal(t, want, h.sink.got(), "each message once, in order")
	st := h.c.Stats()
	require.Zero(t, st.TotalReconnects())
	require.Zero(t, st.Unaligned)
	require.Zero(t, st.RotationDropped)
	h.finish(nil, p.close)
}

// A message over what the client reads to drop (DiscardLimit; here the
// test's own, 72 KiB, over a ReadLimit of 64 KiB), sent in fragments each
// under it: the limit is on the message, an *OversizedError; the peer is
// told 1009 and the client redials.
func TestS32peerOversizedInFragments(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := startNodePeer(t)
	opts := peerOptions()
	opts.ReadLimit, opts.discardLimit = 64<<10, 72<<10
	h := startOnNode(t, p, opts, &sink{}, leaks)
	part := hx(strings.Repeat("f", 40<<10))
	p.do(1, "frag", "text", "0", part)
	p.do(1, "frag", "text", "1", part)
	lost := requireLost(t, h, ReasonOversized)
	var oe *OversizedError
	require.ErrorAs(t, lost.Err, &oe)
	code, _ := p.closed(1)
	require.Equal(t, int(websocket.StatusMessageTooBig), code)
	require.Empty(t, h.sink.got())
	h.finish(nil, p.close)
}

// A peer that stops reading (its socket paused, a slow reader): the
// host's write that fills the socket's buffers ends after
// Options.WriteTimeout on the Clock with ErrMaybeSent, the connection is
// lost (ReasonWriteError) and redialled; Close while such a write is
// blocked returns, and the write with it.
func TestS32peerSlowReader(t *testing.T) {
	big := []byte(`{"pad":"` + strings.Repeat("w", 48<<20) + `"}`)
	for _, closing := range []bool{false, true} {
		t.Run("close="+strconv.FormatBool(closing), func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := startNodePeer(t)
			h := startOnNode(t, p, peerOptions(), &sink{}, leaks)
			p.do(1, "pause")
			wrote := make(chan error, 1)
			cn := h.live()
			go func() { wrote <- h.c.Write(context.Background(), big) }()
			// The write holds the connection's write turn until it ends.
			require.Eventually(t, func() bool { return len(cn.wmu) == 1 }, nodeWait, time.Millisecond, "the write never began")
			var err error
			if closing {
				done := make(chan error, 1)
				go func() { done <- h.close(context.Background()) }()
				require.NoError(t, recvWait(t, done, "Close"))
				err = recvWait(t, wrote, "the write")
			} else {
				// Fire the write's bound until the write returns: it is
				// armed once the write began, which the test cannot see.
				require.Eventually(t, func() bool {
					select {
					case err = <-wrote:
						return true
					default:
						h.clock.advance(DefaultWriteTimeout)
						return false
					}
				}, nodeWait, time.Millisecond)
			}
			require.ErrorIs(t, err, ErrMaybeSent)
			if !closing {
				requireLost(t, h, ReasonWriteError)
				p.opened(2)
			}
			h.finish(nil, p.close)
		})
	}
}

// An empty close frame (ws.close() without a code: RFC 6455 §7.1.5, no
// status code, which the receiver reports as 1005) is the peer's
// closure, not a protocol error: ReasonPeerClosed with 1005 and the
// plain backoff; the client answers with an empty close frame too (1005
// on the peer's side).
func TestS32peerEmptyCloseFrame(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := startNodePeer(t)
	opts := peerOptions()
	opts.BackoffBase = time.Millisecond
	h := startOnNode(t, p, opts, &sink{}, leaks)
	p.do(1, "close")
	lost := conn1Lost(t, h)
	require.Equal(t, ReasonPeerClosed, lost.Reason, "err %v", lost.Err)
	require.Equal(t, websocket.StatusNoStatusRcvd, websocket.CloseStatus(lost.Err))
	re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.LessOrEqual(t, re.Delay, opts.BackoffBase)
	code, _ := p.closed(1)
	require.Equal(t, int(websocket.StatusNoStatusRcvd), code)
	h.rec.waitFor(t, "connected on 2", connected(2))
	h.finish(nil, p.close)
}

// A text message that is not UTF-8 (ws sends the bytes it is given):
// dropped and reported (ErrInvalidUTF8, ReasonInvalidFrame), the
// connection kept and the next message delivered.
func TestS32peerInvalidUTF8Text(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := startNodePeer(t)
	h := startOnNode(t, p, peerOptions(), &sink{}, leaks)
	p.do(1, "text", hx(`{"s":"`)+"c328"+hx(`"}`))
	p.do(1, "text", hx(`{"next":1}`))
	h.sink.waitFor(t, `{"next":1}`)
	require.Equal(t, []string{`{"next":1}`}, h.sink.got())
	ev := h.rec.waitFor(t, "invalid frame", func(ev Event) bool { return ev.Reason == ReasonInvalidFrame })
	require.ErrorIs(t, ev.Err, ErrInvalidUTF8)
	require.EqualValues(t, 1, h.c.Stats().InvalidFrames)
	require.Zero(t, h.c.Stats().TotalReconnects())
	h.finish(nil, p.close)
}

// A peer that refuses a message too big for it (ws's maxPayload closes
// with 1009): the host sees the peer's 1009 (ReasonPeerClosed) and the
// redial waits for BackoffCap, since the same message would be refused
// again.
func TestS32peerRefusesBigMessage(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := startNodePeer(t, "--max-payload=1024")
	opts := peerOptions()
	opts.BackoffBase = time.Millisecond
	h := startOnNode(t, p, opts, &sink{}, leaks)
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"pad":"`+strings.Repeat("b", 2000)+`"}`)))
	lost := conn1Lost(t, h)
	require.Equal(t, ReasonPeerClosed, lost.Reason, "err %v", lost.Err)
	require.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(lost.Err))
	re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.GreaterOrEqual(t, re.Delay, DefaultBackoffCap)
	h.rec.waitFor(t, "connected on 2", connected(2))
	h.finish(nil, p.close)
}

// Options.Subprotocols against ws, which picks the first one offered:
// the connection carries it and delivers.
func TestS32peerSubprotocol(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := startNodePeer(t)
	opts := peerOptions()
	opts.Subprotocols = []string{"v2.json", "v1.json"}
	h := startOnNode(t, p, opts, &sink{}, leaks)
	require.Equal(t, hx("v2.json"), p.opened(1)[3])
	p.do(1, "text", hx(`{"proto":1}`))
	h.sink.waitFor(t, `{"proto":1}`)
	h.finish(nil, p.close)
}
