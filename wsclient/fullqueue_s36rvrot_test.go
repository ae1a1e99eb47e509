package wsclient

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/meltica/meltica/schema"
	"github.com/stretchr/testify/require"
)

// holdAtRotating makes OnEvent hold on the first ConnRotating event until
// release is called, after telling rotating; the queue holds one event.
// The caller registers release as a cleanup after the harness's (Run
// waits for OnEvent).
func holdAtRotating() (tune func(*Options), rotating chan struct{}, release func()) {
	hold := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	rotating = make(chan struct{}, 1)
	var first sync.Once
	tune = func(opts *Options) {
		opts.EventBuffer = 1
		user := opts.OnEvent
		opts.OnEvent = func(ev Event) {
			user(ev)
			if ev.State == schema.ConnRotating {
				first.Do(func() {
					rotating <- struct{}{}
					<-hold
				})
			}
		}
	}
	return tune, rotating, release
}

// A rotation that drops frames of the new connection from before the join
// while OnEvent is behind and the event queue is full: the
// ErrRotationDropped event waits for room, as the switch's other losses
// do, and reaches OnEvent before the new connection's first frame. Before
// s36rvrot it was queued without waiting (emit): dropped from the full
// queue, the host never heard of the loss — the Connected event after it
// names the rotation, which a session takes for no loss — and a session
// published no gap marker.
func TestS36rvrotDroppedLossWaitsForRoom(t *testing.T) {
	tune, rotating, release := holdAtRotating()
	h, v, o, subscribed := rotateScripted(t, tune)
	t.Cleanup(release) // before the harness's Close
	s1 := v.session(1)
	u := func(k int) string { return fmt.Sprintf(`{"u":%d}`, k) }
	require.NoError(t, s1.send(u(1), u(2), u(3)))
	h.sink.waitFor(t, u(3))
	require.NoError(t, h.c.Rotate())
	recvWait(t, rotating, "OnEvent holding at Rotating")
	h.c.emit(Event{State: h.c.State(), Reason: ReasonHandlerError, Err: errors.New("an earlier event")}, false) // the queue is full
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 subscribed"))
	s2 := v.session(2)
	require.NoError(t, s2.send(`{"snapshot":2}`, u(4), u(5)))
	require.Eventually(t, func() bool {
		h.c.deliverMu.Lock()
		defer h.c.deliverMu.Unlock()
		return h.c.ov != nil && h.c.ov.nb != nil && len(h.c.ov.nb.queue) == 3
	}, wait, time.Millisecond, "connection 2's frames queued")
	require.NoError(t, s1.send(u(4))) // the join
	require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "switching")
	release()
	h.rec.waitFor(t, "switched", connected(2))
	h.sink.waitFor(t, u(5))
	require.Eventually(t, func() bool { return len(o.before(ErrRotationDropped)) == 1 }, wait, time.Millisecond, "ErrRotationDropped reached OnEvent; events %v", h.rec.all())
	require.Equal(t, []int{0}, o.before(ErrRotationDropped), "frames of connection 2 delivered before its rotation's loss was announced")
	h.finish(v)
}
