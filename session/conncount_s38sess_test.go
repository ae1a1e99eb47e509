package session_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// TestS38sessOKXConnCountErrorBeforeTheSwitchFailsPrepare: a rotation's
// new OKX connection is logged in and subscribed (Prepare's handshake
// done: orders, account, positions acknowledged), then, while Prepare still waits for the old connection's answers
// (hookDrained holds it until the notice was handled), the venue ends its
// orders subscription (channel-conn-count-error: the account has the
// channel on 30 connections, OKX v5 "WebSocket → Connection count
// limit"). As the session doc says, its Prepare fails: the old
// connection, still subscribed, stays and orders go on it; the host sees
// the *wsclient.PrepareError wrapping the *LoginError naming the channel;
// no rotation switched. Before s38sess Prepare returned nil all the same,
// the switch came, and the worker, which had put the old connection's
// state back, logged in again on the new connection.
func TestS38sessOKXConnCountErrorBeforeTheSwitchFailsPrepare(t *testing.T) {
	c := privateCases(t)[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	execs := make(chan *schema.ExecReport, 16)
	seen := &rotationSeen{}
	s, clk, now := rotatedSession(t, c, f, execs, seen)
	old := s.Stats().Orders.Client.ConnID
	first := f.loginsSeen()[0].conn
	f.mu.Lock()
	f.alter = func(conn int, msg []byte, replies []string) []string {
		m := string(msg)
		if conn != first && strings.Contains(m, `"subscribe"`) && strings.Contains(m, `"channel":"positions"`) {
			// after the last subscription's acknowledgement: the handshake
			// is done when the notice about "orders" comes
			return append(replies, s37ConnCountError)
		}
		return replies
	}
	f.mu.Unlock()
	vain := holdDrainUntilRefused(s) // the notice handled before Prepare returns
	now.set(now.get().Add(3 * time.Second))
	clk.rotateUntil(t, func() bool { sw, n := seen.counts(); return n+sw >= 1 }, "the rotation ends")
	require.False(t, vain(), "the drain's hold waited in vain for the refusal")
	sw, _ := seen.counts()
	require.Zero(t, sw, "no switch to a connection whose orders subscription the venue ended")
	var pe *wsclient.PrepareError
	require.ErrorAs(t, seen.failure(), &pe)
	var le *session.LoginError
	require.ErrorAs(t, pe, &le)
	assert.Equal(t, "orders", le.Channel)

	waitOrdersReady(t, s)
	assert.Equal(t, old, s.Stats().Orders.Client.ConnID, "the old connection stays")
	l := f.loginsSeen()
	require.GreaterOrEqual(t, len(l), 2)
	assert.NotEqual(t, first, l[1].conn)
	if len(l) > 2 {
		assert.NotEqual(t, l[1].conn, l[2].conn, "no second login on the rotation's new connection")
	}
	assert.Zero(t, s.Stats().Orders.Client.Rotations)
}
