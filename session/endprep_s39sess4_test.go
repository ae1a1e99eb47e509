package session_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS39sess4RetriedRotationsRefusedLoginKeepsTheOldConnection: an OKX
// rotation fails (its new connection's orders channel ended by
// channel-conn-count-error before the switch, as in
// TestS39sess2FailedRotationKeepsTheOldConnectionsSubscriptions) and
// wsclient tries it again after its backoff. The retried rotation's
// login is refused (60009 "Login failed", OKX v5 "Error codes —
// WebSocket": here a replay, the venue's clock still at the failed
// one's timestamp). The refusal is the new connection's: only that
// rotation fails (Prepare, endPrep); the old connection, logged in and
// serving, stays ready, sees no second login, and WaitOrdersReady
// reports no error.
func TestS39sess4RetriedRotationsRefusedLoginKeepsTheOldConnection(t *testing.T) {
	c := privateCases(t)[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	execs := make(chan *schema.ExecReport, 16)
	seen := &rotationSeen{}
	s, clk, now := rotatedSession(t, c, f, execs, seen)
	old := s.Stats().Orders.Client.ConnID
	first := f.loginsSeen()[0].conn
	var mu sync.Mutex
	failOnce := true
	f.mu.Lock()
	f.alter = func(conn int, msg []byte, replies []string) []string {
		mu.Lock()
		defer mu.Unlock()
		if failOnce && conn != first && strings.Contains(string(msg), `"subscribe"`) && strings.Contains(string(msg), `"channel":"positions"`) {
			failOnce = false
			return append(replies, s37ConnCountError) // the first rotation fails
		}
		return replies
	}
	f.mu.Unlock()
	vain := holdDrainUntilRefused(s)
	now.set(now.get().Add(3 * time.Second))
	clk.rotateUntil(t, func() bool { sw, n := seen.counts(); return n+sw >= 1 }, "the rotation ends")
	require.False(t, vain(), "the drain's hold waited in vain for the refusal")
	sw, _ := seen.counts()
	require.Zero(t, sw, "the first rotation failed")
	waitOrdersReady(t, s)
	require.Equal(t, old, s.Stats().Orders.Client.ConnID, "the old connection stays")

	// wsclient's backoff before the retry is armed already: fire the
	// short timers until the retried rotation ended. Its login carries the
	// venue's clock, unmoved: refused as a replay.
	clk.fireUntil(t, 0, func() bool { sw, n := seen.counts(); return n+sw >= 2 }, "the retried rotation ends")
	sw, _ = seen.counts()
	require.Zero(t, sw, "the retried rotation failed too")
	refusedNew := 0
	for _, l := range f.loginsSeen() {
		if l.conn != first && !l.accepted {
			refusedNew++
		}
	}
	require.Positive(t, refusedNew, "the retried rotation's login was refused")
	waitOrdersReady(t, s)
	// And once more: a retry of the old connection's login, were one
	// armed by the refusal, is fired meanwhile.
	clk.fireUntil(t, 0, func() bool { sw, n := seen.counts(); return n+sw >= 3 }, "the rotation tried a third time ends")
	waitOrdersReady(t, s)
	require.Equal(t, old, s.Stats().Orders.Client.ConnID, "the old connection stays")
	for _, l := range f.loginsSeen() {
		if l.conn == first {
			require.True(t, l.accepted, "the old connection's login: %+v", f.loginsSeen())
		}
	}
	require.Equal(t, 1, f.loginsOn(first), "the old connection logged in once: %+v", f.loginsSeen())
}

// TestS39sess4RotationRefusedWhileTheOldResubscribes: as above, but the
// retried rotation begins while the old connection, logged in, awaits
// the answer to its orders channel subscribed again (the venue ended it:
// channel-conn-count-error, OKX v5 "WebSocket → Connection count
// limit"). The rotation's refused login ends only the rotation: the old
// connection's channel is sent again after the backoff, no second login
// on it (which the venue refuses as a replay: 60009, WaitOrdersReady
// failing with it).
func TestS39sess4RotationRefusedWhileTheOldResubscribes(t *testing.T) {
	c := privateCases(t)[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	execs := make(chan *schema.ExecReport, 16)
	seen := &rotationSeen{}
	s, clk, now := rotatedSession(t, c, f, execs, seen)
	old := s.Stats().Orders.Client.ConnID
	first := f.loginsSeen()[0].conn
	var mu sync.Mutex
	failOnce, told, answer, resent := true, false, false, false
	f.mu.Lock()
	f.alter = func(conn int, msg []byte, replies []string) []string {
		m := string(msg)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case failOnce && conn != first && strings.Contains(m, `"subscribe"`) && strings.Contains(m, `"channel":"positions"`):
			failOnce = false
			return append(replies, s37ConnCountError) // the first rotation fails
		case conn == first && told && !answer && strings.Contains(m, `"subscribe"`) && strings.Contains(m, `"channel":"orders"`):
			return nil // the old connection's resubscription: its answer awaited
		case conn == first && answer && strings.Contains(m, `"subscribe"`) && strings.Contains(m, `"channel":"orders"`):
			resent = true
		}
		return replies
	}
	f.mu.Unlock()
	vain := holdDrainUntilRefused(s)
	now.set(now.get().Add(3 * time.Second))
	clk.rotateUntil(t, func() bool { sw, n := seen.counts(); return n+sw >= 1 }, "the rotation ends")
	require.False(t, vain(), "the drain's hold waited in vain for the refusal")
	sw, _ := seen.counts()
	require.Zero(t, sw, "the first rotation failed")
	waitOrdersReady(t, s)

	// The venue ends the old connection's orders channel (beside an
	// order's answer, as in TestS39sess2...).
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
	_, err := place(t, s, ctx, "notice1")
	require.NoError(t, err)
	// Fire the short timers (the old connection's resubscription, whose
	// answer never comes; wsclient's backoff) until the retried rotation
	// ended, its login refused as a replay.
	clk.fireUntil(t, 0, func() bool { sw, n := seen.counts(); return n+sw >= 2 }, "the retried rotation ends")
	mu.Lock()
	answer = true
	mu.Unlock()
	logins := func() int { return f.loginsOn(first) }
	// The failed rotation's end awaits the resubscription's answer again
	// (s40sess2: an answer come meanwhile is taken): its deadline
	// (answerTimeout, 10 s) fired too, then the retry's backoff.
	require.Eventually(t, func() bool {
		clk.fire()
		clk.fireAfter(10 * time.Second)
		mu.Lock()
		defer mu.Unlock()
		return logins() > 1 || resent
	}, generous, pollEvery, "the old connection's channel sent again")
	require.Equal(t, 1, logins(), "the old connection logged in once: %+v", f.loginsSeen())
	// Ready again: the answer taken, or (a retried rotation taking the
	// connection meanwhile) the channel's retry fired.
	clk.fireUntil(t, 0, func() bool {
		poll, done := context.WithTimeout(ctx, 10*pollEvery)
		defer done()
		return s.WaitOrdersReady(poll) == nil
	}, "the old connection ready again")
	require.Equal(t, 1, logins(), "the old connection logged in once: %+v", f.loginsSeen())
	require.Equal(t, old, s.Stats().Orders.Client.ConnID, "the old connection stays")
}

// holdDrainUntilRefused holds the first rotation's drain until the
// session counted a refusal: the new connection's notice is handled
// before Prepare returns. The hold gives up after generous, as long as
// the test's own wait for the rotation's end: vain then says so, the
// cause of that wait's failure (it reports false while the hold holds or
// when it never ran: the handshake failed before the drain).
func holdDrainUntilRefused(s *session.Session) (vain func() bool) {
	refused := s.Stats().Order.Refused
	var (
		once   sync.Once
		gaveUp atomic.Bool
	)
	s.SetRaceHooks(nil, nil, func(uint64) {
		once.Do(func() {
			gaveUp.Store(!holdUntil(func() bool { return s.Stats().Order.Refused != refused }))
		})
	})
	return gaveUp.Load
}
