package wsclient

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// joinedDuringDial runs a rotation whose new connection (2) joins the
// old one's stream while its second subscription waits for its paced
// turn (the fake clock), after which connection 1 dies when kill says
// so; then then runs and the test checks the losses reported. It returns the harness and
// the venue.
func joinedDuringDial(t *testing.T, kill bool, then func(h *harness, v *venue, nb *conn)) (*harness, *venue) {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	v, subscribed := subscribingVenue(t)
	k := &sink{}
	opts, fc := pacedRotationOptions()
	h := start(t, v.url(), opts, k, leaks)
	h.clock = fc
	upPaced(t, h, v, subscribed)

	s1 := v.session(1)
	u := func(k int) string { return fmt.Sprintf(`{"u":%d}`, k) }
	require.NoError(t, s1.send(u(1), u(2)))
	h.sink.waitFor(t, u(1), u(2))
	old := h.live()
	require.NoError(t, h.c.Rotate())
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 dialled"))
	s2 := v.session(2)
	require.Eventually(t, func() bool { return len(v.received(2)) == 1 && pacedWait(fc) }, wait, time.Millisecond,
		"connection 2's second subscription waiting for its turn")
	require.NoError(t, s1.send(u(3))) // delivered during the overlap
	h.sink.waitFor(t, u(3))
	require.NoError(t, s2.send(u(3))) // the join at connection 1's last frame: nothing lost
	var nb *conn
	require.Eventually(t, func() bool {
		h.c.deliverMu.Lock()
		defer h.c.deliverMu.Unlock()
		if h.c.ov != nil && h.c.ov.done {
			nb = h.c.ov.nb
		}
		return nb != nil
	}, wait, time.Millisecond, "joined")
	if kill {
		require.NoError(t, s1.ws.CloseNow()) // connection 1 dies, the dial still under way
		recvWait(t, old.dead, "connection 1 dead")
	}
	then(h, v, nb)
	return h, v
}

// joinedThenOldDies is joinedDuringDial with connection 1 dying after
// the join.
func joinedThenOldDies(t *testing.T, then func(h *harness, v *venue, nb *conn)) (*harness, *venue) {
	t.Helper()
	return joinedDuringDial(t, true, then)
}

// Close while a rotation's streams were joined and the new connection's
// subscriptions are under way gives the rotation up: nothing is lost that
// Close does not end anyway, and the client says only Closed. Before
// s38ws the new connection, stopped by Close before its second
// subscription, came back from connect without an error (stopped with
// ReasonClosed, no error of its own): the rotation switched to it and
// announced it Connected, subscribed to half the channels, while Close
// went on.
func TestS38wsCloseDuringJoinedDialNoLoss(t *testing.T) {
	h, v := joinedDuringDial(t, false, func(h *harness, _ *venue, _ *conn) {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		require.NoError(t, h.c.Close(ctx)) // the clock stands: the paced subscription never comes
	})
	require.Empty(t, lossEvents(h), "events %v", h.rec.all())
	require.Zero(t, h.c.Stats().Unaligned)
	require.Zero(t, h.rec.count(connected(2)), "connection 2, closed while it subscribed, announced connected: %v", h.rec.all())
	require.Zero(t, h.c.Stats().Rotations)
	h.finish(v)
}

// lossEvents are the events that tell a host of a possible gap (a
// session publishes a marker for each): Disconnected not of a rotation's
// (Reconnecting and Closed follow it), or a rotation's
// ErrRotationDropped / ErrRotationUnaligned.
func lossEvents(h *harness) []Event {
	var out []Event
	for _, ev := range h.rec.all() {
		if (ev.State == schema.ConnDisconnected && ev.Reason != ReasonRotation) ||
			(ev.Reason == ReasonRotation && (errors.Is(ev.Err, ErrRotationDropped) || errors.Is(ev.Err, ErrRotationUnaligned))) {
			out = append(out, ev)
		}
	}
	return out
}

// An old connection that dies once a rotation's streams were joined, the
// new connection's dial still under way (its paced subscriptions), lost
// nothing: it delivered up to the join, and the new connection has the
// rest. Before s38ws connectStandby reported it lost at once
// (Disconnected: one marker in a session) and the joined switch then
// reported nothing: a gap that was none.
func TestS38wsJoinedThenOldDiesDuringDialIsNoLoss(t *testing.T) {
	h, v := joinedThenOldDies(t, func(h *harness, v *venue, _ *conn) {
		h.advanceUntil(250*time.Millisecond, "connection 2 subscribed", func() bool { return len(v.received(2)) == len(testSubs) })
		h.rec.waitFor(t, "the switch", connected(2))
		require.NoError(t, v.session(2).send(`{"u":4}`))
		h.sink.waitFor(t, `{"u":4}`)
	})
	require.Empty(t, lossEvents(h), "a joined rotation lost nothing; events %v", h.rec.all())
	require.Zero(t, h.c.Stats().TotalReconnects())
	require.Equal(t, []string{`{"u":1}`, `{"u":2}`, `{"u":3}`, `{"u":4}`}, h.sink.got())
	h.finish(v)
}

// The same rotation given up after the old connection died (the new one
// fails while it subscribes): one loss, one report. Before s38ws it was
// reported three ways: Disconnected at the old connection's death,
// ErrRotationUnaligned when the rotation was given up (restoreOld), and
// the redial's loss.
func TestS38wsJoinedOldDiesThenRotationFailsOneLoss(t *testing.T) {
	h, v := joinedThenOldDies(t, func(h *harness, v *venue, nb *conn) {
		require.NoError(t, v.session(2).ws.CloseNow()) // connection 2 fails while subscribing
		recvWait(t, nb.dead, "connection 2 dead")
		h.advanceUntil(250*time.Millisecond, "reconnected", func() bool {
			st := h.c.Stats()
			return st.State == schema.ConnConnected && st.ConnID == 3
		})
	})
	require.Len(t, lossEvents(h), 1, "one loss, one report; events %v", h.rec.all())
	require.True(t, h.lostConn1())
	h.finish(v)
}

// Close while a rotation's new connection subscribes ends the old
// connection too: the client says Closed, and no Disconnected before it
// (outside a rotation Close reports none). Before s38ws connectStandby
// could see the old connection's end (Close cancels it) before the
// dial's, and reported it lost: Disconnected, with ReasonClosed, a loss a
// host (not a session, which ignores losses while it closes) acts on.
func TestS38wsCloseDuringRotationDialNoDisconnected(t *testing.T) {
	for range 5 { // connectStandby's select chooses at random between the two ends
		leaks := goleak.IgnoreCurrent()
		v, subscribed := subscribingVenue(t)
		opts, fc := pacedRotationOptions()
		h := start(t, v.url(), opts, &sink{}, leaks)
		h.clock = fc
		upPaced(t, h, v, subscribed)
		require.NoError(t, h.c.Rotate())
		require.Equal(t, 2, recvWait(t, subscribed, "connection 2 dialled"))
		require.Eventually(t, func() bool { return len(v.received(2)) == 1 && pacedWait(fc) }, wait, time.Millisecond,
			"connection 2's second subscription waiting for its turn")
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		require.NoError(t, h.c.Close(ctx)) // the clock stands
		cancel()
		require.Zero(t, h.rec.count(func(ev Event) bool { return ev.State == schema.ConnDisconnected }), "events %v", h.rec.all())
		h.finish(v)
	}
}
