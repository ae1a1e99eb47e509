package wsclient

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// A handler that holds the reader while the node peer pings the client
// and the client's own ping waits for its pong: the pong timeout counts
// only the reader's time on the socket, so ten pong timeouts of the
// clock in the handler end nothing; once the handler returns, every ping
// of the peer is answered, the client's ping gets its pong, and data
// flows on the same connection.
func TestS35wsNodePingsDuringASlowHandler(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := startNodePeer(t)
	inside, release := make(chan struct{}), make(chan struct{})
	k := &sink{hook: func(f *schema.WsFrame) error {
		if string(f.Data) == `{"slow":1}` {
			close(inside)
			<-release
		}
		return nil
	}}
	opts := peerOptions()
	opts.PingInterval = time.Second
	opts.PongTimeout = 3 * time.Second
	h := startOnNode(t, p, opts, k, leaks)
	cn := h.live()
	p.do(1, "text", hx(`{"slow":1}`))
	recvWait(t, inside, "the handler")
	for i := range 3 {
		p.do(1, "ping", hx("v"+strconv.Itoa(i)))
	}
	// The client's ping goes out (its pong waits unread behind the
	// handler), then ten pong timeouts pass on the clock.
	tickWatchdog(t, h, cn, opts.PingInterval)
	p.until("the client's ping", func() bool { return p.count("ping", 1) >= 1 })
	for range 10 * 8 {
		tickWatchdog(t, h, cn, opts.PongTimeout/8)
	}
	select {
	case <-cn.dead:
		t.Fatalf("connection ended while the handler ran: %v", cn.err)
	default:
	}
	close(release)
	p.until("the peer's pings answered", func() bool { return p.count("pong", 1) == 3 })
	require.Eventually(t, func() bool { return h.c.Stats().PingRTT > 0 }, nodeWait, time.Millisecond, "the client's ping answered")
	p.do(1, "text", hx(`{"after":1}`))
	h.sink.waitFor(t, `{"after":1}`)
	require.Zero(t, h.c.Stats().TotalReconnects())
	h.finish(nil, p.close)
}

// A rotation whose old connection the node peer half-closes (its close
// frame sent, or the socket ended without one) before the streams joined:
// the loss is reported (Disconnected on connection 1, a possible gap),
// the new connection goes live, delivers what comes next once, and
// nothing is left running. With IsData (the old connection kept open
// after the switch for its answers) as without.
func TestS35wsNodeRotationWhileTheOldPeerHalfCloses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		isData bool
		end    []string // the peer's command on connection 1
		reason Reason
	}{
		{"close frame", false, []string{"close", "1001", hx("going away")}, ReasonPeerClosed},
		{"close frame, IsData", true, []string{"close", "1001", hx("going away")}, ReasonPeerClosed},
		{"terminate, IsData", true, []string{"terminate"}, ReasonReadError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			p := startNodePeer(t)
			opts := peerOptions()
			opts.RotationOverlap = time.Hour // switched by the loss, not the bound
			if tc.isData {
				opts.IsData = func(b []byte) bool { return !bytes.HasPrefix(b, []byte(`{"ack"`)) }
			}
			h := startOnNode(t, p, opts, &sink{}, leaks)
			msg := func(i int) string { return `{"seq":` + strconv.Itoa(i) + `}` }
			p.do(0, "text", hx(msg(1)))
			h.sink.waitFor(t, msg(1))
			require.NoError(t, h.c.Rotate())
			h.rec.waitFor(t, "rotating", rotating(1))
			p.opened(2)
			p.until("subscribed 2", func() bool { return p.count("message", 2) >= len(testSubs) })
			p.do(1, tc.end[0], tc.end[1:]...)
			lost := h.rec.waitFor(t, "connection 1 lost", func(ev Event) bool { return ev.State == schema.ConnDisconnected && ev.ConnID == 1 })
			require.Equal(t, tc.reason, lost.Reason, "err %v", lost.Err)
			h.rec.waitFor(t, "connected on 2", func(ev Event) bool {
				return ev.State == schema.ConnConnected && ev.ConnID == 2 && ev.Reason == ReasonRotation
			})
			p.until("connection 1 closed", func() bool { return p.count("close", 1) == 1 })
			p.do(0, "text", hx(msg(2)))
			h.sink.waitFor(t, msg(2))
			require.Equal(t, []string{msg(1), msg(2)}, h.sink.got())
			require.Equal(t, uint64(1), h.c.Stats().Rotations)
			ctx, cancel := context.WithTimeout(context.Background(), nodeWait)
			defer cancel()
			require.NoError(t, h.close(ctx))
			h.finish(nil, p.close)
		})
	}
}
