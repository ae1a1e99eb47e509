package session_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS39sess2FailedRotationKeepsTheOldConnectionsSubscriptions: a
// rotation's new OKX connection is refused (its orders channel ended by
// channel-conn-count-error before the switch, as in
// TestS38sessOKXConnCountErrorBeforeTheSwitchFailsPrepare) and the old
// connection stays, subscribed. When the venue then ends the orders
// channel of the old connection too (OKX v5 "WebSocket → Connection count
// limit": "In exceptional circumstances the platform may unsubscribe
// existing connections"; the notice here comes before an order's answer,
// as in TestS37rvsessConnCountErrorIsNoOrdersAnswer), the channel is
// subscribed again on it. Before s39sess2 the failed
// rotation's endPrep forgot the old connection's subscriptions
// (resetSubs): the notice named none of them and was dropped, the
// connection left ready without its orders channel — no execution report
// for its life.
func TestS39sess2FailedRotationKeepsTheOldConnectionsSubscriptions(t *testing.T) {
	c := privateCases(t)[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	execs := make(chan *schema.ExecReport, 16)
	seen := &rotationSeen{}
	s, clk, now := rotatedSession(t, c, f, execs, seen)
	old := s.Stats().Orders.Client.ConnID
	first := f.loginsSeen()[0].conn
	var mu sync.Mutex
	told, resubs := false, 0
	f.mu.Lock()
	f.alter = func(conn int, msg []byte, replies []string) []string {
		m := string(msg)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case conn != first && strings.Contains(m, `"subscribe"`) && strings.Contains(m, `"channel":"positions"`):
			return append(replies, s37ConnCountError) // the new connection's: the rotation fails
		case conn == first && told && strings.Contains(m, `"subscribe"`) && strings.Contains(m, `"channel":"orders"`):
			resubs++
		}
		return replies
	}
	f.mu.Unlock()
	vain := holdDrainUntilRefused(s) // the new connection's notice handled before Prepare returns
	now.set(now.get().Add(3 * time.Second))
	clk.rotateUntil(t, func() bool { sw, n := seen.counts(); return n+sw >= 1 }, "the rotation ends")
	require.False(t, vain(), "the drain's hold waited in vain for the refusal")
	sw, _ := seen.counts()
	require.Zero(t, sw, "the rotation failed")
	waitOrdersReady(t, s)
	require.Equal(t, old, s.Stats().Orders.Client.ConnID, "the old connection stays")

	// The old connection's notice comes before an order's answer, not
	// after the session's ping (firing the timers of DefaultPingInterval
	// fires wsclient's too); and only the timers armed since are fired:
	// wsclient's backoff before it tries the failed rotation again is
	// armed already, and firing it had a new connection log in with the
	// failed one's timestamp, the fake venue's clock still — refused as a
	// replay (60009: seen under load, the resubscription unseen or
	// WaitOrdersReady failing).
	armed := clk.armed()
	f.setScript(func(o orderSeen) ([]string, bool) {
		if o.conn != first {
			return []string{acceptOrder(f.venue, o)}, false
		}
		mu.Lock()
		told = true
		mu.Unlock()
		return []string{s37ConnCountError, acceptOrder(f.venue, o)}, false
	})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	ack, err := place(t, s, ctx, "notice1")
	require.NoError(t, err, "the notice is no answer to the order")
	require.NotEmpty(t, ack.VenueOrderID)
	require.Eventually(t, func() bool {
		clk.fireSince(armed) // the backoff before the channel is sent again
		mu.Lock()
		defer mu.Unlock()
		return resubs > 0
	}, generous, pollEvery, "the orders channel the venue ended on the old connection subscribed again there")
	waitOrdersReady(t, s)
}
