package wsclient

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// A message the old connection never got (the venue lost it on that
// connection) that the new connection received before the join is not
// delivered — it comes from before the join — but it is no longer lost
// in silence: the rotation reports ErrRotationDropped and counts it. It
// was dropped with the frames before the join, the rotation reported
// aligned and nothing said a message was missing.
// TestS29RotationReportsFramesDroppedBeforeTheJoin failed before (no
// ErrRotationDropped event).
func TestS29RotationReportsFramesDroppedBeforeTheJoin(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	hb := newHub(false)
	hb.lose = func(n int, seq int64) bool { return n == 1 && seq == 11 }
	h, v, ks, publish := startLaggingBy(t, hb, leaks, 0)
	beginRotationAfter10(t, h, hb, ks, publish)
	publish(1) // 11: connection 1 lost it; connection 2 holds it
	publish(1) // 12 on both: the join
	require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "rotation")
	publish(5)
	require.Eventually(t, func() bool { return ks.last() == 17 }, wait, time.Millisecond, "connection 2 up to 17")
	ev := h.rec.waitFor(t, "dropped", func(ev Event) bool { return errors.Is(ev.Err, ErrRotationDropped) })
	require.EqualValues(t, 2, ev.ConnID)
	require.Equal(t, ReasonRotation, ev.Reason)
	h.finish(v)

	ks.mu.Lock()
	require.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17}, ks.seqs)
	ks.mu.Unlock()
	st := h.c.Stats()
	require.EqualValues(t, 1, st.RotationDropped)
	require.Zero(t, st.Unaligned, "aligned at 12: nothing around it repeats")
}

// A notice the old connection alone got, the last it delivered before the
// join (so the last of the repeats the new connection is expected to
// send), never comes on the new connection: the new connection's next
// message, in no list of repeats, is new — not a divergence. It was
// reported unaligned (a false alarm; the doc said so).
// TestS29OldOnlyNoticeLastInRepeats failed before: Unaligned 1.
func TestS29OldOnlyNoticeLastInRepeats(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	hb := newHub(false)
	hb.notice = func(n int, seq int64) string {
		if n == 1 && seq == 15 {
			return `{"notice":"shutdown"}`
		}
		return ""
	}
	hb.lose = func(n int, seq int64) bool { return n == 1 && seq == 16 } // the notice stays connection 1's last
	h, v, ks, publish := startLagging(t, hb, leaks)
	beginRotationAfter10(t, h, hb, ks, publish)
	publish(5) // connection 1: 11..15 and the notice; connection 2 holds 11..15
	ks.waitCount(t, 15, "connection 1 ahead")
	require.Eventually(t, func() bool { return h.c.Stats().HandlerErrors == 1 }, wait, time.Millisecond, "the notice delivered")
	publish(1) // connection 1 loses 16; connection 2 sends 11: the join, repeats 12..15 and the notice expected
	require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "rotation")
	publish(10) // connection 2: 12..15 skipped, then 16.., the notice never
	require.Eventually(t, func() bool { return ks.last() == 21 }, wait, time.Millisecond, "connection 2 up to 21")
	require.Equal(t, modeSkipping, h.live().mode.Load(), "the notice still awaited")
	publish(watchMissed) // the watch for the notice ends: lock-free delivery again
	require.Eventually(t, func() bool { return ks.last() == 21+watchMissed }, wait, time.Millisecond)
	require.Equal(t, modeLive, h.live().mode.Load(), "skipping given up after watchMissed frames")
	h.finish(v)

	ks.requireEachOnce(t)
	st := h.c.Stats()
	require.Zero(t, st.Unaligned, "the notice is the old connection's alone")
	require.Zero(t, st.RotationDropped)
}

// A message the old connection never got, sent by the new connection
// among the repeats it is expected to send (the old connection ran
// ahead), is delivered, and the repeats after it are still skipped: they
// were delivered twice (skipping ended at the first frame that was no
// repeat). The rotation is reported unaligned: that message came out of
// its place. TestS29MissedAmongRepeatsKeepsSkipping failed before: 14, 15
// and 16 delivered twice.
func TestS29MissedAmongRepeatsKeepsSkipping(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	hb := newHub(false)
	hb.lose = func(n int, seq int64) bool { return n == 1 && seq == 13 }
	h, v, ks, publish := startLagging(t, hb, leaks)
	beginRotationAfter10(t, h, hb, ks, publish)
	publish(5) // connection 1: 11, 12, 14, 15; connection 2 holds 11..15
	ks.waitCount(t, 14, "connection 1 ahead")
	require.Eventually(t, func() bool { return ks.last() == 15 }, wait, time.Millisecond)
	publish(1) // connection 1: 16 (or not before the join); connection 2: 11, the join
	require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "rotation")
	publish(10)
	require.Eventually(t, func() bool { return ks.last() == 21 }, wait, time.Millisecond, "connection 2 up to 21")
	h.finish(v)

	ks.mu.Lock()
	seen := map[int]int{}
	for _, n := range ks.seqs {
		seen[n]++
	}
	ks.mu.Unlock()
	for n := 1; n <= 21; n++ {
		require.Equal(t, 1, seen[n], "message %d delivered once: %v", n, ks.seqs)
	}
	require.EqualValues(t, 1, h.c.Stats().Unaligned, "13 came out of its place")
}

// beginRotationAfter10 has connection 1 deliver messages 1..10, then asks
// for a rotation and waits until connection 2 has subscribed.
func beginRotationAfter10(t *testing.T, h *harness, hb *hub, ks *seqSink, publish func(n int)) {
	t.Helper()
	require.Eventually(t, func() bool { return hb.subscribed(1) }, wait, time.Millisecond)
	publish(10)
	ks.waitCount(t, 10, "connection 1")
	require.NoError(t, h.c.Rotate())
	require.Eventually(t, func() bool { return hb.subscribed(2) }, wait, time.Millisecond, "connection 2 subscribed")
}
