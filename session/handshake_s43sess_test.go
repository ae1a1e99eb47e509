package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS43sessAnswerBeatsItsDeadline: the answers to the subscriptions,
// queued for the private worker before their deadline (answerTimeout, 10 s
// on Client.Clock) expired, are taken before that expiry, however the two
// are ready together (the worker busy meanwhile): the connection is
// subscribed, no ErrNoAnswer, no retry. Before s43sess the worker's select
// picked either at random: about half the time the venue's timely answer
// lost to noAnswer, a refusal counted and the handshake done again.
func TestS43sessAnswerBeatsItsDeadline(t *testing.T) {
	f, _, clk, cfg := okxOnClock(t)
	f.holdLogins() // until the hook is set
	s := start(t, cfg)
	f.waitHeld()
	held, release := s.HoldSubscribeStep()
	t.Cleanup(release)
	f.release()
	var n int
	select {
	case n = <-held:
	case <-time.After(generous):
		t.Fatal("the subscriptions are not sent")
	}
	require.Eventually(t, func() bool { steps, _ := s.PrivateQueued(); return steps >= n }, generous, pollEvery, "the venue's answers queue for the held worker")
	require.Eventually(t, func() bool {
		clk.fireAfter(10 * time.Second)
		_, expired := s.PrivateQueued()
		return expired > 0
	}, generous, pollEvery, "the answers' deadline expires with them queued")
	release()
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.NoError(t, s.WaitConnected(ctx))
	require.Zero(t, s.Stats().Order.Refused, "the answers came in time: no ErrNoAnswer")
}

// TestS43sessLoginOnItsOwnConnection: a login made for a connection lost
// (and redialled) before it was written is not written on the next one:
// that connection logs in once, with its own login, and is subscribed.
// Before s43sess the handshake wrote with Client.Write, on whatever
// connection was current: the venue saw the lost connection's login and
// then the new one's on the new connection (OKX refuses a second login
// and a replayed timestamp).
func TestS43sessLoginOnItsOwnConnection(t *testing.T) {
	f, now, clk, cfg := okxOnClock(t)
	s := start(t, cfg)
	waitConnected(t, s)
	first := s.Stats().Orders.Client.ConnID
	held, release := s.HoldHandshakeWrite(first + 1)
	t.Cleanup(release)

	now.set(now.get().Add(time.Second))
	f.dropAll()
	var lost uint64
	clk.fireUntil(t, 0, func() bool { // the redial's backoff
		select {
		case lost = <-held:
			return true
		default:
			return false
		}
	}, "the next connection's login is made")
	// The connection the login is for is lost and the next one is up
	// before the login is written.
	// (Dropped until the client is on another: the fake may record a
	// connection after the client has it up.)
	now.set(now.get().Add(time.Second))
	clk.fireUntil(t, 0, func() bool {
		if s.Stats().Orders.Client.ConnID > lost {
			return true
		}
		f.dropAll()
		return false
	}, "redialled")
	release()
	clk.fireUntil(t, 0, s.OrdersWorkerReady, "the next connection logs in")
	waitConnected(t, s)
	logins := f.loginsSeen()
	seen := map[int]bool{}
	for _, l := range logins {
		require.False(t, seen[l.conn], "a connection logged in once, with its own login: %+v", logins)
		seen[l.conn] = true
		require.True(t, l.accepted)
	}
	require.Zero(t, s.Stats().Order.Refused)
}

// okxOnClock is an OKX fake venue (its clock the test's now) and a
// session's Config for it on a manual Client.Clock.
func okxOnClock(t *testing.T) (*fakePrivate, *atomicTime, *manualClock, session.Config) {
	c := privateCases(t)[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	now := new(atomicTime)
	now.set(time.Now())
	f.setServerClock(now.get)
	clk := newManualClock()
	cfg := c.config(f, now.get)
	cfg.Client.Clock = clk
	cfg.Pools = schema.NewPools(nil)
	cfg.OnExecReport = func(r *schema.ExecReport) { cfg.Pools.Execs.Put(r) }
	return f, now, clk, cfg
}
