package meltica_test

// Outside contract tests, round 8 (s33ct): a foreign peer's WebSocket
// endings a venue shows, written from wsclient/doc.go and RFC 6455, on the
// hand-written peer of peer_s29ct_test.go.

import (
	"net"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// RFC 6455 §5.5.1 and §7.1.5: a close frame may carry no body ("If there
// is no such data in the Close frame, _The WebSocket Connection Close
// Code_ is considered to be 1005"); that is a venue's close, not a
// protocol fault (only a body of one byte, or a code that may not be
// sent, is: TestS29ctPeerProtocolFaults). wsclient/doc.go: "When the
// venue closes the connection with a close frame, its code and reason
// are what the host sees ([ReasonPeerClosed] …)", and 1005 is not among
// the codes given a floor: the plain backoff. Connection 1 sends a
// message and an empty close frame: the loss is ReasonPeerClosed with
// 1005 (no status), the redial is not held back, and connection 2's
// message follows.
func TestS33ctPeerCloseWithoutStatus(t *testing.T) {
	url := s29ctPeer(t, func(n int, c *s29ctRaw) bool {
		if n > 1 {
			c.text("after")
			return true
		}
		c.text("before")
		c.frame(true, 0, s29ctOpClose, nil, false)
		return true
	})
	in, evs := &s29ctInbox{}, newS27ctEvents()
	s29ctStart(t, url, in, evs, wsclient.Options{TryAgainDelay: s27ctWait})
	got := in.wait(t, 2)
	assert.Equal(t, []s29ctGot{{1, false, "before"}, {2, false, "after"}}, got)
	lost := evs.await(t, "the connection lost", func(ev wsclient.Event) bool { return ev.State == schema.ConnDisconnected })
	assert.Equal(t, wsclient.ReasonPeerClosed, lost.Reason, "%v", lost.Err)
	assert.Equal(t, websocket.StatusNoStatusRcvd, websocket.CloseStatus(lost.Err), "%v", lost.Err)
	re := evs.await(t, "the redial", func(ev wsclient.Event) bool { return ev.State == schema.ConnReconnecting })
	assert.Less(t, re.Delay, s27ctWait, "no floor: the plain backoff")
}

// A TCP reset in the middle of a message (the venue's host or a load
// balancer dropping the connection: SO_LINGER 0, then close): wsclient/
// doc.go, "a connection that ends without a close frame inside a frame or
// between the fragments of a message ... is a read error, [ErrMessageCut],
// and the part is not delivered", or a read error of the socket's own;
// either way ReasonReadError, the part not delivered, a redial, and
// connection 2's message.
func TestS33ctPeerResetMidMessage(t *testing.T) {
	for name, part := range map[string]func(c *s29ctRaw){
		"inside a frame": func(c *s29ctRaw) {
			_, _ = c.w.Write([]byte{0x81, 100, '{', '"', 'p', '"', ':'})
			_ = c.w.Flush()
		},
		"between fragments": func(c *s29ctRaw) {
			c.frame(false, 0, s29ctOpText, []byte(`{"part":`), false)
		},
	} {
		t.Run(name, func(t *testing.T) {
			url := s29ctPeer(t, func(n int, c *s29ctRaw) bool {
				if n > 1 {
					c.text("after")
					return true
				}
				c.text("before")
				part(c)
				if tc, ok := c.conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				_ = c.conn.Close()
				return false
			})
			in, evs := &s29ctInbox{}, newS27ctEvents()
			s29ctStart(t, url, in, evs, wsclient.Options{})
			got := in.wait(t, 2)
			assert.Equal(t, []s29ctGot{{1, false, "before"}, {2, false, "after"}}, got, "nothing of the cut message delivered")
			lost := evs.await(t, "the connection lost", func(ev wsclient.Event) bool { return ev.State == schema.ConnDisconnected })
			assert.Equal(t, wsclient.ReasonReadError, lost.Reason, "%v", lost.Err)
			assert.Equal(t, uint64(1), lost.ConnID)
		})
	}
}
