package session_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS41rvsessNoticeOnTheRotationsNewConnection: during an OKX rotation
// the new connection, logged in, tells that it will close (notice 64008,
// "service upgrade", OKX v5 "WebSocket → Notification of service
// upgrade": a service upgrade's notice reaches every connection of the
// server, a new one dialled to it too). The rotation switches to it, and
// the session replaces it at once: a rotation follows the switch. Before,
// the notice, taken on the worker while the new connection was the
// worker's (p.conn), asked wsclient for a rotation of the connection
// current then — the old one, whose request the switch drops: the new
// connection stayed, ready, until the venue closed it (a loss, the answers
// of the orders in flight lost with it).
func TestS41rvsessNoticeOnTheRotationsNewConnection(t *testing.T) {
	c := privateCases(t)[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	var (
		mu    sync.Mutex
		first int
		told  bool
	)
	f.alter = func(conn int, msg []byte, replies []string) []string {
		if !strings.Contains(string(msg), `"op":"login"`) {
			return replies
		}
		mu.Lock()
		defer mu.Unlock()
		if first == 0 {
			first = conn
		}
		if conn == first || told {
			return replies
		}
		told = true // the rotation's new connection: its login's answer, then the notice
		return append(replies, okxUpgradeNotice)
	}
	execs := make(chan *schema.ExecReport, 16)
	seen := &rotationSeen{}
	s, clk, now := rotatedSession(t, c, f, execs, seen)

	now.set(now.get().Add(3 * time.Second))
	clk.rotateUntil(t, func() bool { sw, n := seen.counts(); return sw+n >= 1 }, "the rotation ends")
	sw, _ := seen.counts()
	require.Equal(t, 1, sw, "the rotation switched: %v", seen.failure())
	mu.Lock()
	require.True(t, told, "the new connection told of its close")
	mu.Unlock()
	now.set(now.get().Add(3 * time.Second)) // (the next login's timestamp: a repeated one is a replay)
	clk.fireUntil(t, 0, func() bool { sw, _ := seen.counts(); return sw >= 2 },
		"the connection that told of its close replaced at once")
	waitOrdersReady(t, s)
}
