package wsclient

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The old connection's last frames are a run of byte-identical copies
// (12 twice) and the new connection's first frame is the second copy: it
// subscribed between the two (connection 2 has no first copy). The join
// is at the run's first copy, so the repeat list holds one copy more than
// the new connection sends; the new connection's next message (13) is a
// fresh one, not a divergence: nothing is missing or doubled, and the
// rotation must not be reported unaligned (a host resyncs its books on
// ErrRotationUnaligned). Failed before the fix: Unaligned was 1.
func TestRotationRunAtTheEndOfTheRepeats(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	hb := newHub(false)
	hb.notice = func(n int, seq int64) string {
		if n == 1 && seq == 12 {
			return `{"seq":12}` // connection 1 has the first copy too
		}
		return ""
	}
	hb.lose = func(n int, seq int64) bool { return n == 1 && seq == 13 } // holds connection 1 at the run
	h, v, ks, publish := startLaggingBy(t, hb, leaks, 1)

	require.Eventually(t, func() bool { return hb.subscribed(1) }, wait, time.Millisecond)
	publish(11)
	ks.waitCount(t, 11, "connection 1")
	require.NoError(t, h.c.Rotate())
	require.Eventually(t, func() bool { return hb.subscribed(2) }, wait, time.Millisecond, "connection 2 subscribed")
	publish(1) // connection 1: 12, 12; connection 2 holds 12
	ks.waitCount(t, 13, "connection 1's run")
	publish(1) // connection 1 loses 13; connection 2 sends 12: the join
	require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "rotation")
	publish(10) // connection 2: 13..22
	require.Eventually(t, func() bool { return ks.last() == 22 }, wait, time.Millisecond, "connection 2 up to 22")
	h.finish(v)

	want := twelveTwice(22)
	ks.mu.Lock()
	defer ks.mu.Unlock()
	require.Equal(t, want, ks.seqs, "every message once")
	require.Zero(t, h.c.Stats().Unaligned, "aligned: the copy too many was the run's")
}

// twelveTwice is the messages 1 to last, 12 twice (the venue's own repeat).
func twelveTwice(last int) []int {
	want := make([]int, 0, last+1)
	for n := 1; n <= last; n++ {
		want = append(want, n)
		if n == 12 {
			want = append(want, n)
		}
	}
	return want
}
