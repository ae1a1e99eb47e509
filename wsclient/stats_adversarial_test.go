package wsclient

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// Stats.Messages is "messages delivered to the handler" and Stats.Bytes
// "their bytes" (the Stats doc): across rotations, where the new
// connection's copies of messages the old one delivered are dropped, they
// still count exactly what the handler was given.
func TestStatsCountDeliveredAcrossRotations(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	hb := newHub(false)
	v := newVenue(t, hb.serve(func(n int) int { return 30 * (1 - n%2) })) // even connections lag: repeats to drop
	go hb.run()
	ks := &seqSink{conns: map[uint64]int{}}
	k := &sink{hook: ks.hook}
	h := start(t, v.url(), rotationOptions(), k, leaks)
	rotateUnderTraffic(t, h, v, hb, ks, 2) // finishes the client: nothing arrives after
	var bytes uint64
	for _, m := range k.got() {
		bytes += uint64(len(m))
	}
	st := h.c.Stats()
	require.EqualValues(t, 2, st.Rotations)
	require.EqualValues(t, k.frames.Load(), st.Messages, "messages delivered to the handler")
	require.Equal(t, bytes, st.Bytes, "their bytes")
}
