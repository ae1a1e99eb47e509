package wsclient

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// A connection keeps the latest frames it delivered for its own
// rotation (pastFrames) — also those a rotation delivered from its queue
// when it went live (goLive). Connection 2 queues u1..u4; connection 1
// delivers u1, the join; u2..u4 are delivered from the queue. At once
// connection 2's rotation begins, connection 2 quiet, and connection 3
// repeats u3, u4, then sends u5: it joins at u3. Before s40rvws
// connection 2 had kept nothing (its frames all came from the queue): u3
// and u4 were taken for frames never delivered, and with no old frame to
// join at, connection 3's frames waited for RotationOverlap (never here:
// the clock stands) — a stall, then a false loss.
func TestS40rvwsQueuedFramesKeptForTheNextRotation(t *testing.T) {
	u := s39wsUnique(5)
	leaks := goleak.IgnoreCurrent()
	v, subscribed := subscribingVenue(t)
	opts := rotationOptions()
	opts.MaxAge, opts.RotationOverlap = 0, s36rotOverlap
	h := start(t, v.url(), opts, &sink{}, leaks)
	liveConn1(t, h)
	s40rvwsSubscribed(t, v, subscribed, 1)
	require.NoError(t, h.c.Rotate())
	s40rvwsSubscribed(t, v, subscribed, 2)
	require.NoError(t, v.session(2).send(u[:4]...))
	require.Eventually(t, func() bool {
		h.c.deliverMu.Lock()
		defer h.c.deliverMu.Unlock()
		return h.c.ov != nil && h.c.ov.nb != nil && len(h.c.ov.nb.queue) == 4
	}, wait, time.Millisecond, "connection 2's frames queued")
	require.NoError(t, v.session(1).send(u[0]))
	require.Eventually(t, func() bool {
		st := h.c.Stats()
		return st.State == schema.ConnConnected && st.ConnID == 2 && len(h.sink.got()) == 4
	}, wait, time.Millisecond, "connection 2 live, its queue delivered; got %v", h.sink.got())
	require.NoError(t, h.c.Rotate())
	s40rvwsSubscribed(t, v, subscribed, 3)
	require.NoError(t, v.session(3).send(u[2], u[3], u[4], `{"end":1}`))
	s40rvwsEnd(t, h)
	require.Equal(t, append(append([]string(nil), u...), `{"end":1}`), h.sink.got())
	h.finish(v)
	s40wsNoLoss(t, h)
}

// s40rvwsSubscribed waits for connection n's dial and subscriptions.
func s40rvwsSubscribed(t *testing.T, v *venue, subscribed chan int, n int) {
	t.Helper()
	require.Equal(t, n, recvWait(t, subscribed, fmt.Sprintf("connection %d dialled", n)))
	require.Eventually(t, func() bool { return len(v.received(n)) == len(testSubs) }, wait, time.Millisecond, "connection %d subscribed", n)
}

// s40rvwsEnd waits for the handler to get {"end":1}.
func s40rvwsEnd(t *testing.T, h *harness) {
	t.Helper()
	require.Eventually(t, func() bool {
		got := h.sink.got()
		return len(got) > 0 && got[len(got)-1] == `{"end":1}`
	}, wait, time.Millisecond, "the end delivered; got %v, events %v", h.sink.got(), h.rec.all())
}
