package wsclient

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/meltica/meltica/schema"
	"github.com/stretchr/testify/require"
)

// s41wsRestoredThenRotated: connection 1 delivers u1..u3, a rotation joins
// connection 2 at u3, connection 1 then reads u4 and u5 (dropped: the new
// connection was to deliver them), connection 2 fails while it
// subscribes (the rotation is given up after the join: restoreOld reports
// the gap, ErrRotationUnaligned on connection 1), connection 1 delivers
// u6..u8, and the rotation's retry makes connection 3, which sends u[from]
// .. u9 and the end: a venue path lagging behind connection 1's. It
// returns what the handler got and the harness, finished.
func s41wsRestoredThenRotated(t *testing.T, from int) ([]string, *harness) {
	t.Helper()
	u := s39wsUnique(9)
	h, v := joinedDuringDial(t, false, func(h *harness, v *venue, nb *conn) {
		old := h.live()
		require.Equal(t, uint64(1), old.id)
		// The reader waits on the socket (phase odd) once u3's frame is
		// done; each message read adds two.
		require.Eventually(t, func() bool { return old.phase.Load()%2 == 1 }, wait, time.Millisecond, "connection 1's reader waiting")
		p := old.phase.Load()
		require.NoError(t, v.session(1).send(u[3], u[4]))
		require.Eventually(t, func() bool { return old.phase.Load() == p+4 }, wait, time.Millisecond, "connection 1 read u4 and u5")
		require.NoError(t, v.session(2).ws.CloseNow()) // connection 2 fails while subscribing
		recvWait(t, nb.dead, "connection 2 dead")
		h.rec.waitFor(t, "the gap reported", func(ev Event) bool {
			return errors.Is(ev.Err, ErrRotationUnaligned) && ev.ConnID == 1
		})
		require.NoError(t, v.session(1).send(u[5:8]...))
		h.sink.waitFor(t, u[5:8]...)
		// The rotation's retry, after its backoff; connection 3's second
		// subscription is paced too.
		h.advanceUntil(250*time.Millisecond, "connection 3 subscribed", func() bool { return len(v.received(3)) == len(testSubs) })
		require.NoError(t, v.session(3).send(u[from-1:]...))
		require.NoError(t, v.session(3).send(`{"end":1}`))
		require.Eventually(t, func() bool {
			got := h.sink.got()
			return len(got) > 0 && got[len(got)-1] == `{"end":1}`
		}, wait, time.Millisecond, "connection 3 delivered its frames; got %v, events %v", h.sink.got(), h.rec.all())
	})
	got := h.sink.got()
	h.finish(v)
	return got, h
}

// A rotation given up after its streams were joined leaves a gap in what
// the old connection delivered (the frames it read after the join, which
// the new connection was to deliver), reported once (ErrRotationUnaligned
// before the old connection delivers again). The next rotation's new
// connection, lagging so that it repeats frames from before the gap or in
// it, must neither deliver them again or out of their place nor report
// the gap a second time: every frame of the old stream it repeats is
// dropped (u4 and u5 are the loss already reported), the rest delivered
// once, in order, and the only loss event is the first. Before s41ws the
// old connection kept (pastFrames) only the frames it delivered, so its
// window had a hole where the gap was: from u2, the new connection's u4
// and u5 were delivered after u8 and the rotation reported unaligned (a
// second marker); from u4, they were counted as never delivered
// (ErrRotationDropped 2, a second marker and a needless resync). From u6
// (after the gap) it passed before too.
func TestS41wsRotationAfterRestoredGap(t *testing.T) {
	u := s39wsUnique(9)
	for _, from := range []int{2, 4, 5, 6} {
		t.Run(fmt.Sprintf("new from u%d", from), func(t *testing.T) {
			got, h := s41wsRestoredThenRotated(t, from)
			want := append(append(append([]string(nil), u[:3]...), u[5:]...), `{"end":1}`)
			require.Equal(t, want, got, "events %v", h.rec.all())
			loss := lossEvents(h)
			require.Len(t, loss, 1, "events %v", h.rec.all())
			require.True(t, errors.Is(loss[0].Err, ErrRotationUnaligned), "events %v", h.rec.all())
			require.Equal(t, uint64(1), loss[0].ConnID)
			st := h.c.Stats()
			require.Equal(t, uint64(1), st.Unaligned, "%+v", st)
			require.Zero(t, st.RotationDropped, "%+v", st)
			require.Equal(t, uint64(1), st.Rotations, "%+v", st)
			require.Equal(t, 1, h.rec.count(func(ev Event) bool {
				return ev.State == schema.ConnConnected && ev.Reason == ReasonRotation && ev.Err == nil && ev.ConnID == 3
			}), "events %v", h.rec.all())
		})
	}
}
