package session_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// TestS38rvsessPrepareFailsWhenTheWorkerGaveItUp: a rotation's new OKX
// connection is logged in and subscribed (Prepare's handshake done), and
// while Prepare still waits for the old connection's answers the worker
// takes a Connected event of the old connection (one queued behind a slow
// OnState: the event goroutine hands it late, Prepare's own step went
// straight to the worker). The worker gives the rotation up (endPrep: the
// old connection, logged in and subscribed, is the orders' again), so
// Prepare must fail too: the old connection stays and the new one is not
// logged in a second time. Before s38rvsess endPrep told Prepare nothing
// once its handshake was done: Prepare returned nil, wsclient switched to
// the new connection, and the worker, holding the old connection's state,
// logged in again on it.
func TestS38rvsessPrepareFailsWhenTheWorkerGaveItUp(t *testing.T) {
	c := privateCases(t)[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	execs := make(chan *schema.ExecReport, 16)
	seen := &rotationSeen{}
	var rotatingSeen atomic.Bool
	seen.hold = func(e wsclient.Event) {
		if e.State == schema.ConnRotating {
			rotatingSeen.Store(true)
		}
	}
	s, clk, now := rotatedSession(t, c, f, execs, seen)
	old := s.Stats().Orders.Client.ConnID
	var (
		once sync.Once
		held atomic.Value // what the hold waited for in vain; "" all came
	)
	held.Store("")
	s.SetRaceHooks(nil, nil, func(uint64) {
		once.Do(func() { // the late event handled before Prepare returns
			// The host saw the Rotating event: the worker's step of it is
			// queued already (wsclient queues the event before it calls
			// Prepare; private.onEvent queues the step before OnState),
			// ahead of the late Connected. Taken after it, the step would
			// make the old connection not ready again until the failed
			// rotation's Connected, which waits for this hook: the hold
			// below waited in vain (seen under load, CI).
			if !holdUntil(rotatingSeen.Load) {
				held.Store("the Rotating event")
				return
			}
			s.LateOrdersConnected(old)
			if !holdUntil(s.OrdersWorkerReady) { // endPrep: the old connection is the orders' again
				held.Store("the old connection ready again")
			}
		})
	})
	now.set(now.get().Add(3 * time.Second))
	clk.rotateUntil(t, func() bool { sw, n := seen.counts(); return n+sw >= 1 }, "the rotation ends")
	require.Empty(t, held.Load(), "the hold waited in vain")
	sw, _ := seen.counts()
	require.Zero(t, sw, "no switch to a connection the worker gave up")
	var pe *wsclient.PrepareError
	require.ErrorAs(t, seen.failure(), &pe)
	assert.True(t, errors.Is(pe, session.ErrDisconnected), "%v", pe)

	waitOrdersReady(t, s)
	assert.Equal(t, old, s.Stats().Orders.Client.ConnID, "the old connection stays")
	l := f.loginsSeen()
	require.GreaterOrEqual(t, len(l), 2)
	if len(l) > 2 {
		assert.NotEqual(t, l[1].conn, l[2].conn, "no second login on the rotation's new connection")
	}
	assert.Zero(t, s.Stats().Orders.Client.Rotations)
}

// TestS38rvsessOKXConnCountErrorAfterPrepareReturned: the venue ends a
// rotation's new OKX connection's orders subscription
// (channel-conn-count-error, OKX v5 "WebSocket → Connection count
// limit") after Prepare returned nil — wsclient switched to it — but
// before the worker took the switch's Connected (held behind the host's
// OnState of the Rotating event). The switch cannot be stopped: as the
// session doc says, the new connection is refused as a live one — orders
// not ready — and the orders channel
// alone is subscribed again on it after the backoff, then ready, with no
// second login (the switch's step finds it refused: not made live; the
// retry makes it ready).
func TestS38rvsessOKXConnCountErrorAfterPrepareReturned(t *testing.T) {
	c := privateCases(t)[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	execs := make(chan *schema.ExecReport, 16)
	seen := &rotationSeen{}
	var (
		s      *session.Session
		mu     sync.Mutex
		nb     *websocket.Conn // the rotation's new connection, at the fake
		held   bool
		orders int // orders subscriptions the fake saw
	)
	f.onSubscribe = func(c *websocket.Conn, channels []string) {
		mu.Lock()
		defer mu.Unlock()
		for _, ch := range channels {
			if ch == "orders" {
				orders++
				if orders == 2 {
					nb = c
				}
			}
		}
	}
	subs := func() int {
		mu.Lock()
		defer mu.Unlock()
		return orders
	}
	var refusedBefore uint64
	seen.hold = func(e wsclient.Event) {
		mu.Lock()
		if e.State != schema.ConnRotating || held {
			mu.Unlock()
			return
		}
		held = true
		mu.Unlock()
		// Prepare returned nil: wsclient switched (the switch's Connected
		// waits behind this call).
		if !holdUntil(func() bool { return s.Stats().Orders.Client.Rotations >= 1 }) {
			return
		}
		mu.Lock()
		conn := nb
		mu.Unlock()
		if conn == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), generous)
		defer cancel()
		if f.send(ctx, conn, []byte(s37ConnCountError), false) != nil {
			return
		}
		holdUntil(func() bool { return s.Stats().Order.Refused > refusedBefore }) // the worker took the notice
	}
	var clk *manualClock
	var now *atomicTime
	s, clk, now = rotatedSession(t, c, f, execs, seen)
	refusedBefore = s.Stats().Order.Refused
	old := s.Stats().Orders.Client.ConnID
	first := f.loginsSeen()[0].conn

	now.set(now.get().Add(3 * time.Second))
	clk.rotateUntil(t, func() bool { sw, n := seen.counts(); return n+sw >= 1 }, "the rotation ends")
	sw, n := seen.counts()
	require.Equal(t, 1, sw, "Prepare returned nil: the switch came")
	require.Zero(t, n)
	assert.Equal(t, refusedBefore+1, s.Stats().Order.Refused, "the ended subscription counted as refused")
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	// (The *LoginError the refusal set is cleared by the switch's
	// Connected, taken after it: ordersStateChanged.)
	assert.False(t, s.OrdersWorkerReady(), "not ready on a connection without its orders channel")

	clk.fireUntil(t, 0, func() bool { return subs() >= 3 }, "the orders channel subscribed again after the backoff")
	require.Eventually(t, func() bool {
		wctx, wcancel := context.WithTimeout(ctx, pollEvery)
		defer wcancel()
		return s.WaitOrdersReady(wctx) == nil
	}, generous, pollEvery, "ready again once the venue took it")
	l := f.loginsSeen()
	require.Len(t, l, 2, "one login on each connection: none again at the switch")
	assert.NotEqual(t, first, l[1].conn)
	assert.NotEqual(t, old, s.Stats().Orders.Client.ConnID, "the new connection is the orders'")
}

// holdUntil polls cond until it holds (true) or generous passed (false),
// for a hook that holds a session's goroutine, where require cannot stop
// the test.
func holdUntil(cond func() bool) bool {
	guard := time.NewTimer(generous)
	defer guard.Stop()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for !cond() {
		select {
		case <-guard.C:
			return false
		case <-tick.C:
		}
	}
	return true
}
