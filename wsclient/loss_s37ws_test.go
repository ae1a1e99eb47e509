package wsclient

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// announcingFrom reports whether a goroutine waits in announce called
// from fn (OnEvent has not returned from the event yet).
func announcingFrom(fn string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, ").announce(") && strings.Contains(g, fn) {
			return true
		}
	}
	return false
}

// seenAtUnaligned records, when OnEvent receives ErrRotationUnaligned,
// what the handler had been given by then (snap's result).
type seenAtUnaligned struct {
	mu   sync.Mutex
	snap func() []string
	at   [][]string
}

func (s *seenAtUnaligned) onEvent(ev Event) {
	if !errors.Is(ev.Err, ErrRotationUnaligned) {
		return
	}
	got := s.snap()
	s.mu.Lock()
	s.at = append(s.at, got)
	s.mu.Unlock()
}

func (s *seenAtUnaligned) get() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.at...)
}

// A rotation whose new connection fails after the streams were joined
// (here: the venue drops it while its second subscription waits for its
// paced turn) gives delivery back to the old connection, which dropped
// its frames from the join on: a possible gap. ErrRotationUnaligned then
// waits for room in a full event queue and reaches OnEvent before the old
// connection's next frame, as a switch's losses do. Before s37ws it was
// queued without waiting (emit): dropped from the full queue here, and
// otherwise handed to OnEvent after the old connection delivered again.
func TestS37wsFailedRotationAfterJoinAnnouncedBeforeOldFrames(t *testing.T) {
	tune, rotating, release := holdAtRotating()
	leaks := goleak.IgnoreCurrent()
	v, subscribed := subscribingVenue(t)
	k := &sink{}
	seen := &seenAtUnaligned{snap: k.got}
	opts, fc := pacedRotationOptions()
	opts.OnEvent = seen.onEvent
	tune(opts)
	h := start(t, v.url(), opts, k, leaks)
	h.clock = fc
	t.Cleanup(release) // before the harness's Close
	upPaced(t, h, v, subscribed)

	s1 := v.session(1)
	u := func(k int) string { return fmt.Sprintf(`{"u":%d}`, k) }
	require.NoError(t, s1.send(u(1), u(2)))
	h.sink.waitFor(t, u(1), u(2))
	require.NoError(t, h.c.Rotate())
	recvWait(t, rotating, "OnEvent holding at Rotating")
	h.c.emit(Event{State: h.c.State(), Reason: ReasonHandlerError, Err: errors.New("an earlier event")}, false) // the queue is full
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 dialled"))
	require.NoError(t, s1.send(u(3))) // delivered during the overlap
	h.sink.waitFor(t, u(3))
	s2 := v.session(2)
	require.Eventually(t, func() bool { return len(v.received(2)) == 1 && pacedWait(fc) }, wait, time.Millisecond,
		"connection 2's second subscription waiting for its turn")
	require.NoError(t, s2.send(u(3))) // the join: connection 1 delivered it
	require.Eventually(t, func() bool {
		h.c.deliverMu.Lock()
		defer h.c.deliverMu.Unlock()
		return h.c.ov != nil && h.c.ov.done
	}, wait, time.Millisecond, "joined")
	require.NoError(t, s1.send(u(4)))    // connection 1's, dropped from the join on
	require.NoError(t, s2.ws.CloseNow()) // connection 2 fails while subscribing
	require.Eventually(t, func() bool { return h.c.Stats().Unaligned == 1 }, wait, time.Millisecond, "rotation given up")
	require.NoError(t, s1.send(u(5)))
	require.Eventually(t, func() bool {
		return strings.Contains(strings.Join(h.sink.got(), " "), u(5)) || announcingFrom("restoreOld")
	}, wait, time.Millisecond, "old connection delivering, or the loss being announced")
	release()
	h.rec.waitFor(t, "the loss announced", func(ev Event) bool { return ev.ConnID == 1 && errors.Is(ev.Err, ErrRotationUnaligned) })
	h.sink.waitFor(t, u(5))
	at := seen.get()
	require.Len(t, at, 1)
	require.NotContains(t, at[0], u(5), "the old connection's frame after the loss was delivered before the loss was announced")
	h.finish(v)
}

// startLaggingTuned is startLaggingBy with tune applied to the options.
func startLaggingTuned(t *testing.T, hb *hub, leaks goleak.Option, lag int, tune func(*Options)) (*harness, *venue, *seqSink, func(n int)) {
	t.Helper()
	v := newVenue(t, hb.serve(func(n int) int {
		if n == 2 {
			return lag
		}
		return 0
	}))
	ks := &seqSink{conns: map[uint64]int{}}
	opts := rotationOptions()
	tune(opts)
	h := start(t, v.url(), opts, &sink{hook: ks.hook}, leaks)
	return h, v, ks, func(n int) {
		for range n {
			hb.publish()
		}
	}
}

// A divergence found after the switch (connection 1 missed 13, which
// connection 2 sends among the repeats it skips) is announced as the
// switch's losses are: ErrRotationUnaligned waits for room in a full
// event queue and reaches OnEvent before the frame after the repeat that
// revealed it. Before s37ws it was queued without waiting (emit):
// dropped from the full queue here, the rotation's repeat of 13 out of its
// place never announced.
func TestS37wsLateDivergenceAnnouncedBeforeNextFrame(t *testing.T) {
	tune, rotating, release := holdAtRotating()
	leaks := goleak.IgnoreCurrent()
	hb := newHub(false)
	hb.lose = func(n int, seq int64) bool { return n == 1 && (seq == 13 || seq == 17) }
	seen := &seenAtUnaligned{}
	h, v, ks, publish := startLaggingTuned(t, hb, leaks, 6, func(o *Options) {
		o.OnEvent = seen.onEvent
		tune(o)
	})
	t.Cleanup(release) // before the harness's Close
	seen.snap = func() []string {
		ks.mu.Lock()
		defer ks.mu.Unlock()
		out := make([]string, len(ks.seqs))
		for i, n := range ks.seqs {
			out[i] = fmt.Sprint(n)
		}
		return out
	}
	beginRotationAfter10(t, h, hb, ks, publish)
	recvWait(t, rotating, "OnEvent holding at Rotating")
	publish(6) // connection 1: 11, 12, 14, 15, 16; connection 2 holds 11..16
	ks.waitCount(t, 15, "connection 1 ahead")
	publish(1) // connection 1 loses 17; connection 2 sends 11: the join, repeats 12, 14, 15, 16 expected
	require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "rotation")
	// The Connected event fills the queue (one event, OnEvent held).
	publish(6) // connection 2: 12 skipped, 13, 14 skipped (the divergence), 15, 16 skipped, 17
	require.Eventually(t, func() bool { return ks.last() == 17 || announcingFrom("skipRepeat") }, wait, time.Millisecond,
		"connection 2 delivering, or the divergence being announced")
	release()
	h.rec.waitFor(t, "the divergence announced", func(ev Event) bool { return ev.ConnID == 2 && errors.Is(ev.Err, ErrRotationUnaligned) })
	require.Eventually(t, func() bool { return ks.last() == 17 }, wait, time.Millisecond, "connection 2 up to 17")
	h.finish(v)

	at := seen.get()
	require.Len(t, at, 1)
	require.Equal(t, "1 2 3 4 5 6 7 8 9 10 11 12 14 15 16 13", strings.Join(at[0], " "), "delivered when OnEvent saw the divergence")
	require.EqualValues(t, 1, h.c.Stats().Unaligned)
}

// The old connection lost while a rotation's new connection is dialled
// and subscribed (connectStandby) is reported once its reader has
// stopped delivering, as a loss outside a rotation is (serve's retire
// waits for it): its Disconnected event comes after its last frame left
// the handler, so that a host (a session's gap marker) announces the gap
// after that frame, not before it. Here connection 1's frame is in the
// handler when connection 1 fails (a write of the client's own fails);
// before s37ws its Disconnected event reached OnEvent while the frame
// was still in the handler.
func TestS37wsOldLostWhileDiallingReportedAfterItsLastFrame(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v, subscribed := subscribingVenue(t)
	entered, hold := make(chan struct{}), make(chan struct{})
	var returned atomic.Bool
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(hold) }) }
	k := &sink{hook: func(f *schema.WsFrame) error {
		if string(f.Data) == `{"hold":1}` {
			close(entered)
			<-hold
			returned.Store(true)
		}
		return nil
	}}
	var lostEarly atomic.Bool
	opts, fc := pacedRotationOptions()
	opts.OnEvent = func(ev Event) {
		if ev.State == schema.ConnDisconnected && ev.ConnID == 1 && !returned.Load() {
			lostEarly.Store(true)
		}
	}
	h := start(t, v.url(), opts, k, leaks)
	h.clock = fc
	t.Cleanup(release) // before the harness's Close
	upPaced(t, h, v, subscribed)
	old := h.live()
	require.NoError(t, v.session(1).send(`{"hold":1}`))
	recvWait(t, entered, "connection 1's frame in the handler")

	require.NoError(t, h.c.Rotate())
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 dialled"))
	require.Eventually(t, func() bool { return len(v.received(2)) == 1 && pacedWait(fc) }, wait, time.Millisecond,
		"connection 2's second subscription waiting for its turn")
	old.fail(ReasonWriteError, errors.New("a heartbeat's write failed")) // connection 1 ends, its frame still in the handler
	require.Eventually(t, func() bool { return lostEarly.Load() || waitingIn("(*Client).lostAfterReader") }, wait, time.Millisecond,
		"connection 1's loss reported, or waiting for its reader")
	require.False(t, lostEarly.Load(), "connection 1's loss reported while its frame was in the handler")
	release()
	require.Eventually(t, h.lostConn1, wait, time.Millisecond, "connection 1's loss reported")
	require.False(t, lostEarly.Load(), "connection 1's loss reported while its frame was in the handler")
	h.finish(v)
}

// waitingIn reports whether a goroutine waits on a WaitGroup in fn.
func waitingIn(fn string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "sync.(*WaitGroup).Wait") && strings.Contains(g, fn) {
			return true
		}
	}
	return false
}

// pacedWait reports whether a paced write waits for fc to move on (a
// sleep until an instant to come).
func pacedWait(fc *fakeClock) bool {
	now := fc.Now()
	for _, at := range fc.sleepingUntil() {
		if at.After(now) {
			return true
		}
	}
	return false
}

// A rotation whose streams were joined switches with no gap even when the
// old connection died before the switch: the old connection delivered
// everything up to the join, and the new one has everything after it.
// Reporting the old connection lost (Disconnected: a possible gap) then
// told of a gap there was none of — after the rotation's own loss
// (ErrRotationDropped, a second gap marker in a session) and without
// waiting for OnEvent, so its marker could come after the new
// connection's frames. Here connection 1 dies while the switch announces
// its dropped frame; before s37ws connection 1 was reported lost.
func TestS37wsJoinedSwitchOldDeadIsNoLoss(t *testing.T) {
	tune, rotating, release := holdAtRotating()
	h, v, o, subscribed := rotateScripted(t, tune)
	t.Cleanup(release) // before the harness's Close
	old := h.live()
	rotateDropping(t, h, v, o, subscribed, func() {
		recvWait(t, rotating, "OnEvent holding at Rotating")
		h.c.emit(Event{State: h.c.State(), Reason: ReasonHandlerError, Err: errors.New("an earlier event")}, false) // the queue is full
	}, func() {
		require.NoError(t, v.session(1).ws.CloseNow()) // connection 1 dies while the switch waits for OnEvent
		recvWait(t, old.dead, "connection 1 dead")
		release()
	})
	require.False(t, h.lostConn1(), "connection 1 reported lost after a joined switch: %v", h.rec.all())
	require.Zero(t, h.c.Stats().TotalReconnects())
}

// liveConn1 waits until connection 1 is the live connection. With an
// event queue of one (holdAtRotating) the Connected event is dropped when
// OnEvent's goroutine has not yet taken Connecting from the queue (1 run
// in 80 under -race on a loaded machine): the state, not the event, is
// waited for.
func liveConn1(t *testing.T, h *harness) {
	t.Helper()
	require.Eventually(t, func() bool {
		st := h.c.Stats()
		return st.State == schema.ConnConnected && st.ConnID == 1
	}, wait, time.Millisecond, "connection 1 live")
}
