package meltica_test

// Outside contract tests, round 4 (s29ct): a hostile peer at the
// handshake, written from wsclient/doc.go and RFC 6455 §4.1 without
// reading the client.

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// RFC 6455 §4.1: the client MUST fail the connection when the server's
// answer is not a 101, lacks Upgrade: websocket or Connection: Upgrade,
// carries a wrong Sec-WebSocket-Accept, names an extension (§9.1) or a
// subprotocol (§1.9) the client did not ask for. wsclient/doc.go: such a
// dial fails and is redialled (ReasonDial; a status other than 101 is a
// *HandshakeError with it), a server that names permessage-deflate unasked
// "fails the dial". A server that answers nothing is cut at DialTimeout;
// one that accepts and closes the socket at once is a read error. Each
// time the next connection, answered properly, delivers its message.
func TestS29ctPeerHostileHandshake(t *testing.T) {
	good := s29ctGoodAnswer
	accept := func(key string) string {
		a := good(key)
		return a[strings.LastIndex(a, ": ")+2 : len(a)-2]
	}
	cases := map[string]struct {
		answer func(key string) string // "" to answer nothing
		reason wsclient.Reason
		status int
	}{
		"wrong accept": {func(string) string {
			return good("not the key") + "\r\n"
		}, wsclient.ReasonDial, 0},
		"no upgrade header": {func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept(key) + "\r\n\r\n"
		}, wsclient.ReasonDial, 0},
		"no connection header": {func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + accept(key) + "\r\n\r\n"
		}, wsclient.ReasonDial, 0},
		"deflate unasked": {func(key string) string {
			return good(key) + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
		}, wsclient.ReasonDial, 0},
		"subprotocol unasked": {func(key string) string {
			return good(key) + "Sec-WebSocket-Protocol: s29ct\r\n\r\n"
		}, wsclient.ReasonDial, 0},
		"200 with a body": {func(string) string {
			return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
		}, wsclient.ReasonDial, 200},
		"not HTTP": {func(string) string { return "SSH-2.0-OpenSSH_9.6\r\n\r\n" }, wsclient.ReasonDial, 0},
		"silence":  {nil, wsclient.ReasonDial, 0},
		"101 then the socket closed": {func(key string) string {
			return good(key) + "\r\n"
		}, wsclient.ReasonReadError, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			url := s29ctPeerAnswer(t, func(n int, key string) string {
				if n > 1 {
					return good(key) + "\r\n"
				}
				if tc.answer == nil {
					return "" // the socket open, nothing said
				}
				return tc.answer(key)
			}, func(n int, c *s29ctRaw) bool {
				if n > 1 {
					c.text("after")
				}
				return n > 1 || name != "101 then the socket closed"
			})
			in, evs := &s29ctInbox{}, newS27ctEvents()
			s29ctStart(t, url, in, evs, wsclient.Options{DialTimeout: 100 * time.Millisecond})
			got := in.wait(t, 1)
			// The events' times, for the report (no assertion on wall
			// time): a 101 answer that fails the checks (wrong accept, an
			// extension or subprotocol unasked) is seen ~3 s after the
			// dial began, though DialTimeout is 100 ms — coder/websocket
			// reads the failed answer's body for up to 3 s of wall time.
			evs.mu.Lock()
			for _, ev := range evs.evs {
				t.Logf("%s %v %v %v %v", ev.At.Format("15:04:05.000"), ev.State, ev.Reason, ev.Delay, ev.Err)
			}
			evs.mu.Unlock()
			assert.Equal(t, "after", got[0].data)
			assert.False(t, got[0].binary)
			failed := evs.await(t, "the first dial's failure", func(ev wsclient.Event) bool {
				return ev.Err != nil && (ev.State == schema.ConnReconnecting || ev.State == schema.ConnDisconnected)
			})
			assert.Equal(t, tc.reason, failed.Reason, "%v", failed.Err)
			assert.NotErrorIs(t, failed.Err, wsclient.ErrPermanent)
			var he *wsclient.HandshakeError
			if tc.status != 0 {
				if assert.True(t, errors.As(failed.Err, &he), "%v", failed.Err) {
					assert.Equal(t, tc.status, he.StatusCode)
				}
			}
		})
	}
}
