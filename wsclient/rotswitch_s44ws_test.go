package wsclient

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// s44wsHeldSwitch runs a rotation (no MaxAge, RotationOverlap on the
// test's clock) whose switch is held after rotate looked at the new
// connection (2) and found it alive: the old connection's handler call on
// {"hold":1}, made under the delivery lock during the overlap, holds it.
// With oldDies connection 1 fails while the call runs, and the switch
// waits for its reader; otherwise RotationOverlap runs out and the switch
// waits for the lock. Connection 2, its frame {"u":9} queued and never
// joined, is then closed by the venue (no close frame), and the call
// released once connection 2 is dead. It returns the harness, the venue
// and connection 1.
func s44wsHeldSwitch(t *testing.T, oldDies bool) (*harness, *venue, *conn) {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	v, subscribed := subscribingVenue(t)
	entered, hold := make(chan struct{}), make(chan struct{})
	k := &sink{hook: func(f *schema.WsFrame) error {
		if string(f.Data) == `{"hold":1}` {
			close(entered)
			<-hold
		}
		return nil
	}}
	opts := rotationOptions()
	opts.MaxAge = 0
	opts.DialTimeout = 2 * opts.RotationOverlap // (its timer told apart from the overlap's below)
	h := start(t, v.url(), opts, k, leaks)
	released := false
	release := func() {
		if !released {
			released = true
			close(hold)
		}
	}
	t.Cleanup(release) // before the harness's Close
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("events: %v", h.rec.all())
		}
	})
	liveConn1(t, h)
	require.Equal(t, 1, recvWait(t, subscribed, "connection 1 dialled"))
	require.Eventually(t, func() bool { return len(v.received(1)) == len(testSubs) }, wait, time.Millisecond, "connection 1 subscribed")
	old := h.live()

	require.NoError(t, h.c.Rotate())
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 dialled"))
	require.Eventually(t, func() bool { return len(v.received(2)) == len(testSubs) }, wait, time.Millisecond, "connection 2 subscribed")
	require.NoError(t, v.session(2).send(`{"u":9}`)) // connection 2's first frame: no join, the overlap runs
	var nb *conn
	require.Eventually(t, func() bool {
		h.c.deliverMu.Lock()
		defer h.c.deliverMu.Unlock()
		if h.c.ov != nil {
			nb = h.c.ov.nb
		}
		return nb != nil
	}, wait, time.Millisecond, "connection 2's first frame queued")
	require.NoError(t, v.session(1).send(`{"hold":1}`))
	recvWait(t, entered, "connection 1's frame in the handler, under the delivery lock")
	if oldDies {
		old.fail(ReasonWriteError, errors.New("a write failed")) // rotate sees it: the switch, at once
		require.Eventually(t, func() bool { return waitingIn("(*Client).switchTo") }, wait, time.Millisecond,
			"the switch waiting for connection 1's reader")
	} else {
		// The overlap's timer is armed by rotate once it has taken
		// connection 2's first frame, after the frame is queued: moved
		// before, the clock would fire nothing.
		require.Eventually(t, func() bool { return h.clock.armedAt(h.clock.Now().Add(opts.RotationOverlap)) }, wait, time.Millisecond,
			"the overlap's timer armed")
		h.clock.advance(opts.RotationOverlap) // no join: the switch, unaligned
		require.Eventually(t, func() bool { return blockedIn("(*Client).switchTo") }, wait, time.Millisecond,
			"the switch waiting for the delivery lock")
	}
	// rotate looked at connection 2 and found it alive; it dies now.
	require.NoError(t, v.session(2).ws.CloseNow())
	recvWait(t, nb.dead, "connection 2 dead")
	release()
	return h, v, old
}

// A rotation's new connection that dies after rotate looked at it and
// before the switch (here while the switch waits for the delivery lock,
// held by the old connection's handler call) fails the rotation as one
// that died before the look: the old connection, alive, is kept and
// delivers, the retry is armed, and the dead connection is never
// announced Connected nor its queued frame delivered. Before s44ws the
// look was made once, before the switch took the lock: the switch was
// made onto the dead connection (Connected on connection 2, its queued
// frame delivered), which was then lost (Disconnected naming it), the
// live connection 1 closed, and the client redialled after a backoff.
func TestS44wsNewDiesAtTheSwitchKeepsOld(t *testing.T) {
	h, v, old := s44wsHeldSwitch(t, false)
	require.Eventually(t, func() bool {
		return h.rec.count(failedRotation(1)) > 0 || announced(h, 2)
	}, wait, time.Millisecond, "the rotation ended")
	require.False(t, announced(h, 2), "connection 2, dead, announced live")
	failed := h.rec.waitFor(t, "the failed rotation", failedRotation(1))
	require.ErrorContains(t, failed.Err, "EOF", "connection 2's end")
	require.NoError(t, v.session(1).send(`{"u":10}`))
	h.sink.waitFor(t, `{"u":10}`)
	require.Same(t, old, h.live(), "the old connection kept")
	require.NotContains(t, h.sink.got(), `{"u":9}`, "the dead connection's queued frame delivered")
	require.Zero(t, h.rec.count(isState(schema.ConnDisconnected)))
	require.Zero(t, h.c.Stats().Rotations)
	require.Zero(t, h.c.Stats().TotalReconnects())
	h.advanceUntil(time.Second, "the rotation retried", func() bool { return h.rec.count(rotating(1)) == 2 })
	h.finish(v)
}

// The same with the old connection dead too (the switch waits for its
// reader, whose handler call runs): both are gone, the client redials.
// The loss reported is the old connection's, once, and connection 2 is
// never announced. Before s44ws the switch was made onto the dead
// connection 2: Disconnected naming connection 1, then Connected naming
// connection 2 and its loss, a second Disconnected.
func TestS44wsBothDieAtTheSwitchRedials(t *testing.T) {
	h, v, _ := s44wsHeldSwitch(t, true)
	h.advanceUntil(time.Second, "reconnected", func() bool {
		st := h.c.Stats()
		return st.State == schema.ConnConnected && st.ConnID == 3
	})
	require.False(t, announced(h, 2), "connection 2, dead, announced live")
	require.NotContains(t, h.sink.got(), `{"u":9}`, "the dead connection's queued frame delivered")
	loss := h.rec.all()
	n := 0
	for _, ev := range loss {
		if ev.State == schema.ConnDisconnected {
			n++
			require.Equal(t, uint64(1), ev.ConnID, "the live connection's loss")
		}
	}
	require.Equal(t, 1, n, "one loss, one report")
	require.Zero(t, h.c.Stats().Rotations)
	h.finish(v)
}
