package session_test

import (
	"errors"
	"sync"
	"testing"
	"time"

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
	s, clk, now := rotatedSession(t, c, f, execs, seen)
	old := s.Stats().Orders.Client.ConnID
	var once sync.Once
	s.SetRaceHooks(nil, nil, func(uint64) {
		once.Do(func() { // the late event handled before Prepare returns
			s.LateOrdersConnected(old)
			guard := time.NewTimer(generous)
			defer guard.Stop()
			tick := time.NewTicker(pollEvery)
			defer tick.Stop()
			for !s.OrdersWorkerReady() { // endPrep: the old connection is the orders' again
				select {
				case <-guard.C:
					return
				case <-tick.C:
				}
			}
		})
	})
	now.set(now.get().Add(3 * time.Second))
	clk.rotateUntil(t, func() bool { sw, n := seen.counts(); return n+sw >= 1 }, "the rotation ends")
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
