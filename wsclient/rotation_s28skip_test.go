package wsclient

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// A rotation that begins while the live connection is still skipping the
// repeats of the rotation before it (its stream was behind the connection
// it replaced) must go on skipping them: the handler sees every message
// once, in order. Found by the outside contract team (s28ct: 1,000 Rotate
// calls back to back, about 2 in 100 delivered a frame twice, old
// connection then new, each rotation reported aligned).
//
// The hub publishes only when the test says, so every step is fixed:
// connection 2 lags 5 messages behind the hub, so its first message (11)
// is one connection 1 delivered: it goes live skipping 12..15 (or 16);
// the second rotation begins before those repeats arrive.
func TestRotationWhileSkippingRepeats(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	hb := newHub(false)
	h, v, ks, publish := startLagging(t, hb, leaks)
	rotateIntoSkipping(t, h, hb, ks, publish)

	require.NoError(t, h.c.Rotate())
	require.Eventually(t, func() bool { return hb.subscribed(3) }, wait, time.Millisecond, "connection 3 subscribed")
	publish(10) // connection 2 sends its repeats 12..15(16), then 17..; connection 3 sends 17..26
	require.Eventually(t, func() bool { return h.c.Stats().Rotations == 2 }, wait, time.Millisecond, "second rotation")
	publish(10)
	ks.waitCount(t, 36-5, "after the second rotation") // at least up to 31; the last may still come
	require.Eventually(t, func() bool { return ks.last() == 36 }, wait, time.Millisecond, "the last message")
	h.finish(v)

	ks.requireEachOnce(t)
	st := h.c.Stats()
	require.Zero(t, st.Unaligned)
	require.Zero(t, st.TotalReconnects())
}

// A frame the old connection alone sent after the join (a venue's notice
// to that connection: Binance's serverShutdown, which starts the very
// rotation) is in the list of repeats the new connection is expected to
// send: the new connection never sends it, and the repeats after it must
// still be skipped — not delivered a second time with the rotation
// reported unaligned. Found by the outside contract team (s28ct): after a
// session's rotation on serverShutdown, a subscriber got an older
// bookTicker after a newer one.
func TestRotationSkipsOverOldOnlyFrames(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	hb := newHub(false)
	hb.notice = func(n int, seq int64) string {
		if n == 1 && seq == 12 {
			return `{"notice":"shutdown"}`
		}
		return ""
	}
	h, v, ks, publish := startLagging(t, hb, leaks)
	delivered := func(n int, what string) {
		t.Helper()
		ks.waitCount(t, n, what)
	}

	require.Eventually(t, func() bool { return hb.subscribed(1) }, wait, time.Millisecond)
	publish(10)
	delivered(10, "connection 1")
	require.NoError(t, h.c.Rotate())
	require.Eventually(t, func() bool { return hb.subscribed(2) }, wait, time.Millisecond, "connection 2 subscribed")
	publish(5) // connection 1 sends 11, 12, the notice, 13..15; connection 2 holds them
	delivered(15, "connection 1 ahead")
	publish(1) // connection 1 sends 16; connection 2 sends 11: the join, skipping 12, the notice, 13..15 (16)
	require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "rotation")
	publish(10)
	require.Eventually(t, func() bool { return ks.last() == 21 }, wait, time.Millisecond, "connection 2 up to 21")
	h.finish(v)

	ks.requireEachOnce(t)
	require.Zero(t, h.c.Stats().Unaligned, "aligned: the notice is the old connection's alone")
}

// A venue may send the same bytes twice in a row (an unchanged quote:
// venuesim's bookTicker does). The new connection's first frame is the
// first of such a pair, which the old connection delivered twice: the
// join is at the first, so the new connection's copy of the second is
// skipped too, not delivered after newer messages (a stale quote; s28ct's
// session rotations).
func TestRotationJoinsAtARunOfRepeats(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	hb := newHub(false)
	hb.notice = func(_ int, seq int64) string {
		if seq == 12 {
			return `{"seq":12}` // on every connection, the same bytes
		}
		return ""
	}
	h, v, ks, publish := startLagging(t, hb, leaks)
	require.Eventually(t, func() bool { return hb.subscribed(1) }, wait, time.Millisecond)
	publish(11)
	require.Eventually(t, func() bool { return ks.count() == 11 }, wait, time.Millisecond)
	require.NoError(t, h.c.Rotate())
	require.Eventually(t, func() bool { return hb.subscribed(2) }, wait, time.Millisecond, "connection 2 subscribed")
	publish(5) // connection 1: 12, 12, 13..16; connection 2 holds 12..16
	require.Eventually(t, func() bool { return ks.count() == 17 }, wait, time.Millisecond)
	publish(1) // connection 1: 17; connection 2: 12, 12 — the join
	require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "rotation")
	publish(10)
	require.Eventually(t, func() bool { return ks.last() == 22 }, wait, time.Millisecond, "connection 2 up to 22")
	h.finish(v)

	want := twelveTwice(22)
	ks.mu.Lock()
	defer ks.mu.Unlock()
	require.Equal(t, want, ks.seqs, "every message once, the venue's own repeat kept")
	require.Zero(t, h.c.Stats().Unaligned)
}

// startLagging starts a client on a hub that publishes on the test's word,
// connection 2 lagging 5 messages behind it; publish(n) publishes n.
func startLagging(t *testing.T, hb *hub, leaks goleak.Option) (*harness, *venue, *seqSink, func(n int)) {
	t.Helper()
	return startLaggingBy(t, hb, leaks, 5)
}

// startLaggingBy is startLagging with connection 2 lag messages behind.
func startLaggingBy(t *testing.T, hb *hub, leaks goleak.Option, lag int) (*harness, *venue, *seqSink, func(n int)) {
	t.Helper()
	v := newVenue(t, hb.serve(func(n int) int {
		if n == 2 {
			return lag
		}
		return 0
	}))
	ks := &seqSink{conns: map[uint64]int{}}
	h := start(t, v.url(), rotationOptions(), &sink{hook: ks.hook}, leaks)
	return h, v, ks, func(n int) {
		for range n {
			hb.publish()
		}
	}
}

// waitCount waits until at least n messages were delivered.
func (k *seqSink) waitCount(t *testing.T, n int, what string) {
	t.Helper()
	require.Eventually(t, func() bool { return k.count() >= n }, wait, time.Millisecond, "%s: %d delivered", what, n)
}

// rotateIntoSkipping is the first rotation of startLagging's client: 10
// messages on connection 1, then connection 2, 5 behind, joins at 11 and
// goes live skipping 12..15 (16, had connection 1 delivered it first).
func rotateIntoSkipping(t *testing.T, h *harness, hb *hub, ks *seqSink, publish func(n int)) {
	t.Helper()
	require.Eventually(t, func() bool { return hb.subscribed(1) }, wait, time.Millisecond)
	publish(10)
	ks.waitCount(t, 10, "connection 1")
	require.NoError(t, h.c.Rotate())
	require.Eventually(t, func() bool { return hb.subscribed(2) }, wait, time.Millisecond, "connection 2 subscribed")
	publish(5) // connection 1 sends 11..15; connection 2 holds them
	ks.waitCount(t, 15, "connection 1 ahead")
	publish(1) // connection 1 sends 16; connection 2 sends 11, a repeat: aligned, skipping 12..15 (16)
	require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "first rotation")
}

// requireEachOnce requires the messages 1, 2, ... delivered in order, each
// once.
func (k *seqSink) requireEachOnce(t *testing.T) {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	for i, n := range k.seqs {
		require.Equal(t, i+1, n, "delivered in order, each once: %v", k.seqs)
	}
}
