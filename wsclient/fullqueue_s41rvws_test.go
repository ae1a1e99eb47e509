package wsclient

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// s41rvwsFullQueue: connection 1 delivers u1..u10; a rotation's
// connection 2 (queue 16: s41wsPool64) sends nb, the end after it, and
// the test waits until its queue is full with no join (its reader holds
// the next frame, the rest wait in the socket); then connection 1 sends
// old. It returns the harness, the venue and what the handler got
// before connection 1 sent old (the end not yet awaited; the caller
// finishes the harness).
func s41rvwsFullQueue(t *testing.T, nb, old []string) (*harness, *venue) {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	v, subscribed := subscribingVenue(t)
	opts := rotationOptions()
	opts.MaxAge, opts.RotationOverlap = 0, s36rotOverlap
	s41wsPool64(opts)
	h := start(t, v.url(), opts, &sink{}, leaks)
	liveConn1(t, h)
	require.Equal(t, 1, recvWait(t, subscribed, "connection 1 dialled"))
	require.Eventually(t, func() bool { return len(v.received(1)) == len(testSubs) }, wait, time.Millisecond, "connection 1 subscribed")
	u := s39wsUnique(10)
	require.NoError(t, v.session(1).send(u...))
	h.sink.waitFor(t, u...)
	require.NoError(t, h.c.Rotate())
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 dialled"))
	require.Eventually(t, func() bool { return len(v.received(2)) == len(testSubs) }, wait, time.Millisecond, "connection 2 subscribed")
	require.NoError(t, v.session(2).send(append(append([]string(nil), nb...), `{"end":1}`)...))
	require.Eventually(t, func() bool {
		h.c.deliverMu.Lock()
		defer h.c.deliverMu.Unlock()
		if h.c.Stats().Rotations > 0 {
			return true
		}
		// Full, and its reader holds the next frame (each message
		// read adds two to the phase): it waits in deliverShared.
		if h.c.ov == nil {
			return false
		}
		nb := h.c.ov.nb
		return nb != nil && len(nb.queue) == cap(nb.queue) && nb.phase.Load() == uint64(2*(cap(nb.queue)+1))
	}, wait, time.Millisecond, "connection 2's queue full and its reader holding the next frame (or the rotation done)")
	switched := h.c.Stats().Rotations > 0
	err := v.session(1).send(old...) // connection 1 closed at a join: the frames after it are not written
	require.False(t, switched, "the rotation waits with connection 2's queue full; got %v, events %v", h.sink.got(), h.rec.all())
	require.NoError(t, err)
	return h, v
}

// A new connection whose stream is AHEAD of the old one's by more than
// its queue holds (the old venue path slower: the old connection has
// delivered u1..u10, the new one starts at u15; its queue of 16 fills
// with u15..u30 before the old connection sends u11..u15): its reader
// waits, the old connection goes on delivering (the host's data is not
// held: u11..u14 come at once), and its u15 joins the streams at the
// queue's first frame. Every frame once, in order, no loss reported, the
// clock never moved. Switching as soon as the queue is full (not waiting
// for the join or RotationOverlap) would have lost u11..u14 — a real
// gap, where waiting loses nothing: why a full queue waits (see
// Options.MaxAge). Seen failing with that switch tried (deliverShared
// telling rotate the queue was full): u11..u14 missing, ErrRotationUnaligned.
func TestS41rvwsRotationAheadBeyondQueueWaitsForJoin(t *testing.T) {
	u := s39wsUnique(40)
	h, v := s41rvwsFullQueue(t, u[14:], u[10:15]) // closed at the join: u15 its last
	require.Eventually(t, func() bool {
		got := h.sink.got()
		return len(got) > 0 && got[len(got)-1] == `{"end":1}`
	}, wait, time.Millisecond, "connection 2 delivered its frames; got %v, events %v", h.sink.got(), h.rec.all())
	require.Equal(t, append(append([]string(nil), u...), `{"end":1}`), h.sink.got())
	h.finish(v)
	s40wsNoLoss(t, h)
}

// A new connection whose queue fills with frames that never join (here
// frames the old connection never has: a venue that stamps its frames
// per connection, or a new stream lagging beyond the old one's kept
// frames, which the client cannot tell apart) waits for RotationOverlap.
// The wait is the new connection's reader's, not the host's data's: the
// old connection keeps delivering at once while the queue is full
// (u11..u20 come without the clock moving); only then, the clock moved
// past RotationOverlap, the switch comes, unaligned and reported, and
// the new connection's frames follow, none lost.
func TestS41rvwsRotationFullQueueKeepsOldDelivering(t *testing.T) {
	u := s39wsUnique(20)
	x := make([]string, 20)
	for i := range x {
		x[i] = fmt.Sprintf(`{"x":%d}`, i+1)
	}
	h, v := s41rvwsFullQueue(t, x, u[10:])
	require.Eventually(t, func() bool { return len(h.sink.got()) == len(u) }, wait, time.Millisecond,
		"connection 1 delivered u11..u20 while connection 2's queue was full; got %v", h.sink.got())
	require.Equal(t, u, h.sink.got())
	require.Zero(t, h.c.Stats().Rotations, "no switch before RotationOverlap")
	h.advanceUntil(s36rotOverlap, "the switch at RotationOverlap", func() bool {
		got := h.sink.got()
		return len(got) > 0 && got[len(got)-1] == `{"end":1}`
	})
	require.Equal(t, append(append(append([]string(nil), u...), x...), `{"end":1}`), h.sink.got())
	loss := lossEvents(h)
	require.Len(t, loss, 1, "events %v", h.rec.all())
	require.ErrorIs(t, loss[0].Err, ErrRotationUnaligned)
	require.Equal(t, uint64(2), loss[0].ConnID)
	h.finish(v)
}
