package wsclient

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// Two messages the old connection missed among the repeats the new one
// sends (13 and 15; the old delivered 11, 12, 14, 16): each repeat after
// one is a divergence, but it is one rotation that switched unaligned.
// Stats.Unaligned counts rotations ("rotations that switched without
// aligning the streams"), and one ErrRotationUnaligned event says so.
func TestS29rvTwoMissedAmongRepeatsOneUnalignedRotation(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	hb := newHub(false)
	hb.lose = func(n int, seq int64) bool { return n == 1 && (seq == 13 || seq == 15 || seq == 17) }
	h, v, ks, publish := startLaggingBy(t, hb, leaks, 6)
	beginRotationAfter10(t, h, hb, ks, publish)
	publish(6) // connection 1: 11, 12, 14, 16; connection 2 holds 11..16
	ks.waitCount(t, 14, "connection 1 ahead")
	publish(1) // connection 1 loses 17; connection 2 sends 11: the join, repeats 12, 14, 16 expected
	require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "rotation")
	publish(6) // connection 2: 12 skipped, 13, 14 skipped, 15, 16 skipped, 17
	require.Eventually(t, func() bool { return ks.last() == 17 }, wait, time.Millisecond, "connection 2 up to 17")
	h.finish(v)

	ks.mu.Lock()
	require.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 13, 15, 17}, ks.seqs, "each once, the missed ones out of their place")
	ks.mu.Unlock()
	require.EqualValues(t, 1, h.c.Stats().Unaligned, "one rotation")
	require.Equal(t, 1, h.rec.count(func(ev Event) bool { return errors.Is(ev.Err, ErrRotationUnaligned) }))
}
