package wsclient

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// lossOrder records, for each rotation loss event (ErrRotationUnaligned,
// ErrRotationDropped) OnEvent receives, how many frames of the event's
// connection the handler had been given by then: the loss must reach
// OnEvent (and a session's gap marker the dispatcher) before the new
// connection's first frame, or a subscriber sees post-gap data before
// the gap marker.
type lossOrder struct {
	k    *sink
	mu   sync.Mutex
	seen map[string][]int // error → frames of its connection delivered before it
}

func (o *lossOrder) onEvent(ev Event) {
	for _, target := range []error{ErrRotationUnaligned, ErrRotationDropped} {
		if !errors.Is(ev.Err, target) {
			continue
		}
		n := 0
		o.k.mu.Lock()
		for _, id := range o.k.conns {
			if id == ev.ConnID {
				n++
			}
		}
		o.k.mu.Unlock()
		o.mu.Lock()
		o.seen[target.Error()] = append(o.seen[target.Error()], n)
		o.mu.Unlock()
	}
}

func (o *lossOrder) before(target error) []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]int(nil), o.seen[target.Error()]...)
}

// s36rotOverlap is RotationOverlap in these tests.
const s36rotOverlap = 3 * time.Hour

// rotateScripted starts a client of a venue whose connection n sends
// ack(n) when it subscribes, then what the test sends on it; tune, if
// any, changes the options last.
func rotateScripted(t *testing.T, tune ...func(*Options)) (*harness, *venue, *lossOrder, chan int) {
	leaks := goleak.IgnoreCurrent()
	v, subscribed := subscribingVenue(t)
	k := &sink{}
	o := &lossOrder{k: k, seen: map[string][]int{}}
	opts := rotationOptions()
	// Rotated on request only, and an overlap bound no other timer has:
	// switchUnaligned moves the clock to the bound armed at the same
	// instant (a MaxAge of the same duration, armed before, matched it,
	// and the overlap bound never fired).
	opts.MaxAge, opts.RotationOverlap = 0, s36rotOverlap
	opts.OnEvent = o.onEvent
	for _, f := range tune {
		f(opts)
	}
	h := start(t, v.url(), opts, k, leaks)
	liveConn1(t, h)
	require.Equal(t, 1, recvWait(t, subscribed, "connection 1 subscribed"))
	return h, v, o, subscribed
}

// A rotation whose streams never align (each connection's frames name
// it) switches when RotationOverlap has passed: the ErrRotationUnaligned
// event reaches OnEvent before the handler is given the new connection's
// first frame. Before s36rot the queue was delivered first, the event
// emitted after: both queued frames were in the handler when OnEvent saw
// it.
func TestS36rotUnalignedAnnouncedBeforeNewFrames(t *testing.T) {
	h, v, o, subscribed := rotateScripted(t)
	s1 := v.session(1)
	require.NoError(t, s1.send(`{"conn":1,"k":1}`, `{"conn":1,"k":2}`))
	h.sink.waitFor(t, `{"conn":1,"k":2}`)
	require.NoError(t, h.c.Rotate())
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 subscribed"))
	s2 := v.session(2)
	require.NoError(t, s2.send(`{"conn":2,"k":3}`, `{"conn":2,"k":4}`))
	h.switchUnaligned(s36rotOverlap)
	h.rec.waitFor(t, "switched", func(ev Event) bool { return ev.ConnID == 2 && errors.Is(ev.Err, ErrRotationUnaligned) })
	h.sink.waitFor(t, `{"conn":2,"k":3}`, `{"conn":2,"k":4}`)
	require.Eventually(t, func() bool { return len(o.before(ErrRotationUnaligned)) == 1 }, wait, time.Millisecond)
	require.Equal(t, []int{0}, o.before(ErrRotationUnaligned), "frames of connection 2 delivered before its rotation's loss was announced")
	h.finish(v)
}

// A rotation that joins the streams after the new connection received a
// frame the old one never delivered (dropped: a snapshot or a missed
// message) announces ErrRotationDropped before the new connection's
// first frame after the join reaches the handler. Before s36rot the frame
// after the join was delivered first.
func TestS36rotDroppedAnnouncedBeforeNewFrames(t *testing.T) {
	h, v, o, subscribed := rotateScripted(t)
	rotateDropping(t, h, v, o, subscribed, nil, nil)
}

// rotateDropping rotates h's client to a connection 2 that sends a
// snapshot connection 1 never delivered before the join, and checks that
// ErrRotationDropped reached OnEvent before connection 2's first frame
// and that the snapshot was dropped. rotated, if not nil, runs once
// Rotate returned; switching once the switch began (Stats.Rotations).
func rotateDropping(t *testing.T, h *harness, v *venue, o *lossOrder, subscribed chan int, rotated, switching func()) {
	t.Helper()
	s1 := v.session(1)
	u := func(k int) string { return fmt.Sprintf(`{"u":%d}`, k) }
	require.NoError(t, s1.send(u(1), u(2), u(3)))
	h.sink.waitFor(t, u(3))
	require.NoError(t, h.c.Rotate())
	if rotated != nil {
		rotated()
	}
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 subscribed"))
	s2 := v.session(2)
	require.NoError(t, s2.send(`{"snapshot":2}`, u(4), u(5)))
	require.Eventually(t, func() bool {
		h.c.deliverMu.Lock()
		defer h.c.deliverMu.Unlock()
		return h.c.ov != nil && h.c.ov.nb != nil && len(h.c.ov.nb.queue) == 3
	}, wait, time.Millisecond, "connection 2's frames queued")
	require.NoError(t, s1.send(u(4))) // the join
	if switching != nil {
		require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "switching")
		switching()
	}
	h.rec.waitFor(t, "switched", connected(2))
	h.sink.waitFor(t, u(5))
	require.Eventually(t, func() bool { return len(o.before(ErrRotationDropped)) == 1 }, wait, time.Millisecond, "ErrRotationDropped reached OnEvent; events %v", h.rec.all())
	require.Equal(t, []int{0}, o.before(ErrRotationDropped), "frames of connection 2 delivered before its rotation's loss was announced")
	require.NotContains(t, h.sink.got(), `{"snapshot":2}`)
	h.finish(v)
}
