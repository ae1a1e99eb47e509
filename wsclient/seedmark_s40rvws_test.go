package wsclient

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// The seed a rotation deferred to the old handler's return (handlerSeed)
// must still happen when another wait takes the mark first: the
// connection an earlier rotation replaced delivers an answer in its grace
// (handleReplaced) while the live connection's lock-free handler call
// runs, and handlerOut turns handlerSeed into handlerAwaited. Connection
// 2 (live, rotated in from 1) is in the call of u10 when its own rotation
// begins; connection 3 repeats u7..u10 (its queue full: u11 and the end
// wait in the socket); connection 1 sends an ack, whose delivery waits
// for the call. Once the call returned, every message once, in order, and
// no loss reported. Before s40rvws the mark was taken and nothing seeded:
// connection 2 quiet, connection 3's reader waiting for the switch, the
// rotation waited for RotationOverlap (never here: the clock stands) —
// a stall.
func TestS40rvwsSeedAfterReplacedAnswerTookTheMark(t *testing.T) {
	u := s39wsUnique(12)
	leaks := goleak.IgnoreCurrent()
	v, subscribed := subscribingVenue(t)
	opts := rotationOptions()
	opts.MaxAge, opts.RotationOverlap = 0, s36rotOverlap
	opts.IsData = func(b []byte) bool { return !strings.Contains(string(b), `"ack"`) }
	entered, release := make(chan struct{}), make(chan struct{})
	k := &sink{hook: func(f *schema.WsFrame) error {
		if string(f.Data) == u[9] && f.ConnID == 2 {
			close(entered)
			<-release
		}
		return nil
	}}
	h := start(t, v.url(), opts, k, leaks)
	liveConn1(t, h)
	s40rvwsSubscribed(t, v, subscribed, 1)
	// Rotation 1: connection 2 joins at u1 and goes live.
	require.NoError(t, h.c.Rotate())
	s40rvwsSubscribed(t, v, subscribed, 2)
	require.NoError(t, v.session(2).send(u[0]))
	h.standbyQueued()
	require.NoError(t, v.session(1).send(u[0]))
	require.Eventually(t, func() bool {
		st := h.c.Stats()
		return st.State == schema.ConnConnected && st.ConnID == 2
	}, wait, time.Millisecond, "connection 2 live")
	// Connection 2 delivers u2..u10 lock-free; the handler stays in u10.
	require.NoError(t, v.session(2).send(u[1:10]...))
	recvWait(t, entered, "the handler in the call of u10")
	require.NoError(t, h.c.Rotate())
	s40rvwsSubscribed(t, v, subscribed, 3)
	require.NoError(t, v.session(3).send(append(append([]string(nil), u[6:12]...), `{"end":1}`)...))
	var old *conn
	require.Eventually(t, func() bool {
		h.c.deliverMu.Lock()
		defer h.c.deliverMu.Unlock()
		if h.c.ov == nil || h.c.ov.nb == nil || len(h.c.ov.nb.queue) != cap(h.c.ov.nb.queue) {
			return false
		}
		old = h.c.ov.old
		return true
	}, wait, time.Millisecond, "connection 3's queue full")
	require.Equal(t, handlerSeed, old.handling.Load(), "the seed deferred to the call's end")
	// Connection 1, replaced, still open for its answers: its ack waits
	// for connection 2's call (handleReplaced), taking the mark.
	require.NoError(t, v.session(1).send(`{"ack":1}`))
	require.Eventually(t, func() bool { return old.handling.Load() == handlerAwaited }, wait, time.Millisecond,
		"the answer's delivery waits for the call")
	close(release)
	s40rvwsEnd(t, h)
	want := append(append(append([]string(nil), u[:10]...), `{"ack":1}`), u[10:]...)
	require.Equal(t, append(want, `{"end":1}`), h.sink.got())
	h.finish(v)
	s40wsNoLoss(t, h)
}
