package wsclient

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s41wsPool64 gives the client a pool of 64 frames: a new connection's
// queue of 16 (standbyQueue).
func s41wsPool64(o *Options) {
	o.Frames = pool.New("test.frames", 64, func() *schema.WsFrame { return &schema.WsFrame{} }, &pool.Options{CaptureStacks: true})
}

// The bound Options.MaxAge documents: a new connection whose stream
// starts more than the old connection's latest 32 frames from before the
// rotation behind it (a quiet old stream during the rotation: u1..u50
// delivered before it, kept u19..u50; the new connection from u11) has
// its frames before those 32 (u11..u18) counted as never delivered:
// dropped, ErrRotationDropped and Stats.RotationDropped 8 — a loss that
// is none, reported (never hidden), and nothing delivered twice or
// missing.
func TestS41wsRotationLagBeyondKeptFramesReportsDropped(t *testing.T) {
	u := s39wsUnique(55)
	got, h := s41wsRotation(t, s41wsPool64, 0, u[:50], nil, u[10:])
	require.Equal(t, append(append([]string(nil), u...), `{"end":1}`), got)
	loss := lossEvents(h)
	require.Len(t, loss, 1, "events %v", h.rec.all())
	require.True(t, errors.Is(loss[0].Err, ErrRotationDropped), "events %v", h.rec.all())
	require.Contains(t, loss[0].Err.Error(), ": 8 frames of connection 2")
	st := h.c.Stats()
	require.Equal(t, uint64(8), st.RotationDropped, "%+v", st)
	require.Zero(t, st.Unaligned, "%+v", st)
}

// And beyond the kept frames and the new connection's queue (u1..u60
// delivered before the rotation, the new connection from u1: 28 frames
// before the kept 32, the queue 16): the queue fills before any frame
// joins, the rotation switches after RotationOverlap (on the clock),
// unaligned, and the repeats are delivered again — reported
// (ErrRotationUnaligned), nothing missing, nothing counted dropped.
func TestS41wsRotationLagBeyondKeptFramesAndQueueUnaligned(t *testing.T) {
	u := s39wsUnique(65)
	got, h := s41wsRotation(t, s41wsPool64, s36rotOverlap, u[:60], nil, u)
	require.Equal(t, append(append(append([]string(nil), u[:60]...), u...), `{"end":1}`), got)
	loss := lossEvents(h)
	require.Len(t, loss, 1, "events %v", h.rec.all())
	require.True(t, errors.Is(loss[0].Err, ErrRotationUnaligned), "events %v", h.rec.all())
	require.Equal(t, uint64(2), loss[0].ConnID)
	st := h.c.Stats()
	require.Equal(t, uint64(1), st.Unaligned, "%+v", st)
	require.Zero(t, st.RotationDropped, "%+v", st)
}
