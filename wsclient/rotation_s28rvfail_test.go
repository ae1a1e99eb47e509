package wsclient

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// A rotation that fails while the live connection still skips the repeats
// of the rotation before it gives the connection back still skipping them
// (unrotated): the handler sees every message once, in order.
func TestS28rvRotationFailsWhileSkipping(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	hb := newHub(false)
	hb.refuse = func(n int) bool { return n == 3 } // the second rotation's connection
	h, v, ks, publish := startLagging(t, hb, leaks)

	rotateIntoSkipping(t, h, hb, ks, publish)

	require.NoError(t, h.c.Rotate())
	h.rec.waitFor(t, "failed rotation", func(ev Event) bool {
		return ev.State == schema.ConnConnected && ev.Reason == ReasonRotation && ev.Err != nil
	})
	publish(10) // connection 2: its repeats 12..16, then 17..21
	require.Eventually(t, func() bool { return ks.last() == 21 }, wait, time.Millisecond, "connection 2 up to 21")
	h.finish(v)

	ks.requireEachOnce(t)
	st := h.c.Stats()
	require.EqualValues(t, 1, st.Rotations)
	require.Zero(t, st.Unaligned)
	require.Zero(t, st.TotalReconnects())
}
