package wsclient

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// An old connection that dies during a rotation's overlap, before the
// streams were joined, switches delivery at once (unaligned) and is
// reported lost: its Disconnected event must come after the frame its
// reader had read by then (here an answer, held in Options.IsData while
// the connection fails), as outside a rotation and in connectStandby
// (lostAfterReader). Before s38rvws the switch reported the loss without
// waiting for old's reader: OnEvent had Disconnected while the answer was
// still to come, and the answer then reached the handler after it, after
// the new connection had gone live (a refusal after its gap marker).
func TestS38rvwsDeadOldSwitchReportsLossAfterItsLastFrame(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v, subscribed := subscribingVenue(t)
	const answer = `{"ans":1}`
	entered, hold := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(hold) }) }
	k := &sink{}
	var mu sync.Mutex
	var seenAtLoss []string
	lossSeen := false
	opts := rotationOptions()
	opts.MaxAge = 0
	opts.DataTimeout = time.Hour // the reader asks IsData of each frame
	opts.IsData = func(b []byte) bool {
		if string(b) == answer && held.CompareAndSwap(false, true) { // the reader's call, the first
			close(entered)
			<-hold
		}
		return !bytes.HasPrefix(b, []byte(`{"ans"`))
	}
	opts.OnEvent = func(ev Event) {
		if ev.State == schema.ConnDisconnected && ev.ConnID == 1 {
			mu.Lock()
			seenAtLoss, lossSeen = k.got(), true
			mu.Unlock()
		}
	}
	h := start(t, v.url(), opts, k, leaks)
	t.Cleanup(release) // before the harness's Close
	liveConn1(t, h)
	require.Equal(t, 1, recvWait(t, subscribed, "connection 1 dialled"))
	require.Eventually(t, func() bool { return len(v.received(1)) == len(testSubs) }, wait, time.Millisecond, "connection 1 subscribed")
	old := h.live()

	require.NoError(t, h.c.Rotate())
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 dialled"))
	require.Eventually(t, func() bool { return len(v.received(2)) == len(testSubs) }, wait, time.Millisecond, "connection 2 subscribed")
	require.NoError(t, v.session(2).send(`{"u":9}`)) // connection 2's first frame: no join, the overlap waits
	require.Eventually(t, func() bool {
		h.c.deliverMu.Lock()
		defer h.c.deliverMu.Unlock()
		return h.c.ov != nil && h.c.ov.nb != nil
	}, wait, time.Millisecond, "connection 2's first frame queued")
	require.NoError(t, v.session(1).send(answer))
	recvWait(t, entered, "connection 1's answer read")
	old.fail(ReasonWriteError, errors.New("a write failed")) // connection 1 ends, its answer read but not delivered
	// The switch (or, if connection 2's dial had not yet returned,
	// connectStandby: lostAfterReader) waits for connection 1's reader.
	require.Eventually(t, func() bool {
		return h.rec.count(connected(2)) > 0 || waitingIn("(*Client).switchTo") || waitingIn("(*Client).lostAfterReader")
	}, wait, time.Millisecond, "switched, or the switch waiting for connection 1's reader")
	release()
	h.sink.waitFor(t, answer, `{"u":9}`)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return lossSeen
	}, wait, time.Millisecond, "connection 1's loss reported")
	mu.Lock()
	require.Contains(t, seenAtLoss, answer, "connection 1's loss reported before its last frame was delivered")
	mu.Unlock()
	require.Equal(t, []string{answer, `{"u":9}`}, h.sink.got(), "connection 1's answer before connection 2's frames")
	h.finish(v)
}
