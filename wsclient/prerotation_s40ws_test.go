package wsclient

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"go.uber.org/goleak"
)

// s40wsRotation: the old connection delivers pre before the rotation is
// asked for and during while the new one is made; the new connection
// then sends sent and {"end":1}. It returns what the handler got (the
// end included) and the harness, finished.
func s40wsRotation(t *testing.T, pre, during, sent []string) ([]string, *harness) {
	t.Helper()
	return s41wsRotation(t, nil, 0, pre, during, sent)
}

// s41wsRotation is s40wsRotation with the options tuned by tune (when
// not nil) and, with step > 0, the clock moved on by step while the end
// is awaited (a rotation that switches at RotationOverlap).
func s41wsRotation(t *testing.T, tune func(*Options), step time.Duration, pre, during, sent []string) ([]string, *harness) {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	v, subscribed := subscribingVenue(t)
	opts := rotationOptions()
	opts.MaxAge, opts.RotationOverlap = 0, s36rotOverlap
	if tune != nil {
		tune(opts)
	}
	h := start(t, v.url(), opts, &sink{}, leaks)
	liveConn1(t, h)
	require.Equal(t, 1, recvWait(t, subscribed, "connection 1 dialled"))
	require.Eventually(t, func() bool { return len(v.received(1)) == len(testSubs) }, wait, time.Millisecond, "connection 1 subscribed")
	require.NoError(t, v.session(1).send(pre...))
	require.Eventually(t, func() bool { return len(h.sink.got()) == len(pre) }, wait, time.Millisecond,
		"connection 1 delivered before the rotation; got %v", h.sink.got())
	require.NoError(t, h.c.Rotate())
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 dialled"))
	require.Eventually(t, func() bool { return len(v.received(2)) == len(testSubs) }, wait, time.Millisecond, "connection 2 subscribed")
	require.NoError(t, v.session(1).send(during...))
	want := append(append([]string(nil), pre...), during...)
	require.Eventually(t, func() bool { return len(h.sink.got()) >= len(want) }, wait, time.Millisecond,
		"connection 1 delivered its frames; got %v", h.sink.got())
	require.Equal(t, want, h.sink.got())
	require.NoError(t, v.session(2).send(sent...))
	require.NoError(t, v.session(2).send(`{"end":1}`))
	require.Eventually(t, func() bool {
		got := h.sink.got()
		if len(got) > 0 && got[len(got)-1] == `{"end":1}` {
			return true
		}
		if step > 0 {
			h.clock.advance(step)
		}
		return false
	}, wait, time.Millisecond, "connection 2 delivered its frames; got %v, events %v", h.sink.got(), h.rec.all())
	got := h.sink.got()
	h.finish(v)
	return got, h
}

// s40wsNoLoss requires that no rotation loss was reported.
func s40wsNoLoss(t *testing.T, h *harness) {
	t.Helper()
	require.Zero(t, h.rec.count(func(ev Event) bool {
		return errors.Is(ev.Err, ErrRotationUnaligned) || errors.Is(ev.Err, ErrRotationDropped)
	}), "events %v", h.rec.all())
	st := h.c.Stats()
	require.Zero(t, st.RotationDropped+st.Unaligned, "%+v", st)
}

// A new connection whose venue path lags so far that it repeats frames
// the old connection delivered BEFORE the rotation was asked for (u4..u10
// of u1..u10), then those it delivered during it (u11..u20): every
// message once, in order, and no loss reported (the outside team's
// TestS39ctRotateJoinsBehindFramesFromBeforeTheRotation, in the
// package). Before s40ws the client knew only the frames delivered since
// the rotation began: u4..u10 were counted as frames the old connection
// never delivered, ErrRotationDropped and Stats.RotationDropped 7 — a
// false loss, one needless resync.
func TestS40wsRotationBehindFramesBeforeTheRotation(t *testing.T) {
	u := s39wsUnique(30)
	for _, from := range []int{4, 7, 10} {
		t.Run(fmt.Sprintf("new from u%d", from), func(t *testing.T) {
			got, h := s40wsRotation(t, u[:10], u[10:20], u[from-1:30])
			require.Equal(t, append(append([]string(nil), u...), `{"end":1}`), got)
			s40wsNoLoss(t, h)
		})
	}
}

// The same with an old connection that delivers nothing during the
// rotation (a quiet stream): the new connection repeats the old one's
// last frames from before the rotation, then sends a new one. Before
// s40ws nothing joined the streams: the new connection's frames waited
// for RotationOverlap (never here: the clock stands), then were to be
// delivered again, unaligned.
func TestS40wsRotationQuietOldBehind(t *testing.T) {
	u := s39wsUnique(12)
	got, h := s40wsRotation(t, u[:10], nil, u[7:12])
	require.Equal(t, append(append([]string(nil), u...), `{"end":1}`), got)
	s40wsNoLoss(t, h)
}

// The cost a frame of keeping the latest frames for a rotation
// (pastFrames.keep), in a tight loop that writes each message into the
// reader's frame as readAll does (a copy of 150 B or 4 KiB), then keeps it
// (keep=on) or not (keep=off): the swap itself, and the cache misses of
// writing each message into one of 32 buffers instead of one.
//
//	go test -run '^$' -bench S40wsKeep -count 6 ./wsclient/ > keep.txt
//	benchstat -col /keep keep.txt
func BenchmarkS40wsKeep(b *testing.B) {
	for _, size := range []int{150, 4096} {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("size=%dB/keep=%v", size, map[bool]string{false: "off", true: "on"}[on]), func(b *testing.B) {
				msg := make([]byte, size)
				var p pastFrames
				f := &schema.WsFrame{}
				sum := 0
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					buf := f.Data[:0]
					if cap(buf) == 0 {
						buf = make([]byte, 0, schema.DefaultFrameBuffer)
					}
					f.Data = append(buf, msg...)
					sum += int(f.Data[len(f.Data)-1])
					if on {
						p.keep(f)
					}
				}
				_ = sum
			})
		}
	}
}

// The old connection's reader still in the handler call of its last
// frame from before the rotation (begun lock-free, as a session's call
// that asks for the rotation on a venue's notice) while the new connection
// repeats its last frames: they wait in the queue (the call keeps its
// frame when it returns; the rotation does not hold the delivery lock
// waiting for the host's handler), and once the call returned, the next
// frame of either connection looks for them among the old connection's:
// the join is found in the queue, nothing is delivered twice, no loss is
// reported. Before s40ws the new connection's frames stayed queued until
// RotationOverlap ran out (never here: the clock stands).
func TestS40wsRotationBehindWhileTheOldHandlerRuns(t *testing.T) {
	u := s39wsUnique(12)
	leaks := goleak.IgnoreCurrent()
	v, subscribed := subscribingVenue(t)
	opts := rotationOptions()
	opts.MaxAge, opts.RotationOverlap = 0, s36rotOverlap
	entered, release := make(chan struct{}), make(chan struct{})
	k := &sink{hook: func(f *schema.WsFrame) error {
		if string(f.Data) == u[9] && f.ConnID == 1 {
			close(entered)
			<-release
		}
		return nil
	}}
	h := start(t, v.url(), opts, k, leaks)
	liveConn1(t, h)
	require.Equal(t, 1, recvWait(t, subscribed, "connection 1 dialled"))
	require.Eventually(t, func() bool { return len(v.received(1)) == len(testSubs) }, wait, time.Millisecond, "connection 1 subscribed")
	require.NoError(t, v.session(1).send(u[:10]...))
	recvWait(t, entered, "the handler in the call of u10")
	require.NoError(t, h.c.Rotate())
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 dialled"))
	require.Eventually(t, func() bool { return len(v.received(2)) == len(testSubs) }, wait, time.Millisecond, "connection 2 subscribed")
	require.NoError(t, v.session(2).send(u[7:10]...)) // u8..u10: the queue (4 here) not full
	require.Eventually(t, func() bool {
		h.c.deliverMu.Lock()
		defer h.c.deliverMu.Unlock()
		return h.c.ov != nil && h.c.ov.nb != nil && len(h.c.ov.nb.queue) == 3
	}, wait, time.Millisecond, "the new connection's frames queued")
	h.c.deliverMu.Lock()
	old := h.c.ov.old
	h.c.deliverMu.Unlock()
	close(release)
	// The call returned (the sink has u10 before it does): a frame of the
	// new connection before that would wait too, and fill the queue.
	require.Eventually(t, func() bool { return old.handling.Load() == handlerIdle }, wait, time.Millisecond, "u10's call returned")
	require.NoError(t, v.session(2).send(u[10], u[11], `{"end":1}`))
	require.Eventually(t, func() bool {
		got := h.sink.got()
		return len(got) > 0 && got[len(got)-1] == `{"end":1}`
	}, wait, time.Millisecond, "connection 2 delivered its frames; got %v, events %v", h.sink.got(), h.rec.all())
	require.Equal(t, append(append([]string(nil), u...), `{"end":1}`), h.sink.got())
	h.finish(v)
	s40wsNoLoss(t, h)
}

// The same with the new connection's queue full before the old handler
// call returns (u8..u11, the test's queue 4; u12 and the end wait in the
// socket): the new reader waits for the switch, and the call's return
// looks for the join in the queue. Before, the rotation waited for the
// old connection's next frame or RotationOverlap (never here), and then
// switched unaligned, u8..u10 delivered twice.
func TestS40wsRotationBehindQueueFullWhileTheOldHandlerRuns(t *testing.T) {
	u := s39wsUnique(12)
	leaks := goleak.IgnoreCurrent()
	v, subscribed := subscribingVenue(t)
	opts := rotationOptions()
	opts.MaxAge, opts.RotationOverlap = 0, s36rotOverlap
	entered, release := make(chan struct{}), make(chan struct{})
	k := &sink{hook: func(f *schema.WsFrame) error {
		if string(f.Data) == u[9] && f.ConnID == 1 {
			close(entered)
			<-release
		}
		return nil
	}}
	h := start(t, v.url(), opts, k, leaks)
	liveConn1(t, h)
	require.Equal(t, 1, recvWait(t, subscribed, "connection 1 dialled"))
	require.Eventually(t, func() bool { return len(v.received(1)) == len(testSubs) }, wait, time.Millisecond, "connection 1 subscribed")
	require.NoError(t, v.session(1).send(u[:10]...))
	recvWait(t, entered, "the handler in the call of u10")
	require.NoError(t, h.c.Rotate())
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 dialled"))
	require.Eventually(t, func() bool { return len(v.received(2)) == len(testSubs) }, wait, time.Millisecond, "connection 2 subscribed")
	require.NoError(t, v.session(2).send(append(append([]string(nil), u[7:12]...), `{"end":1}`)...))
	require.Eventually(t, func() bool {
		h.c.deliverMu.Lock()
		defer h.c.deliverMu.Unlock()
		return h.c.ov != nil && h.c.ov.nb != nil && len(h.c.ov.nb.queue) == cap(h.c.ov.nb.queue)
	}, wait, time.Millisecond, "the new connection's queue full")
	close(release)
	require.Eventually(t, func() bool {
		got := h.sink.got()
		return len(got) > 0 && got[len(got)-1] == `{"end":1}`
	}, wait, time.Millisecond, "connection 2 delivered its frames; got %v, events %v", h.sink.got(), h.rec.all())
	require.Equal(t, append(append([]string(nil), u...), `{"end":1}`), h.sink.got())
	h.finish(v)
	s40wsNoLoss(t, h)
}

// s40wsKept returns the frames p holds for a rotation, oldest first (the
// range seed reads).
func s40wsKept(p *pastFrames) []string {
	var out []string
	for k := max(p.from, p.n-pastSize); k < p.n; k++ {
		out = append(out, string(p.bufs[k%pastSize]))
	}
	return out
}

// pastFrames keeps the latest pastSize frames in order; a frame whose
// buffer grew past pastMaxCap is copied (the frame keeps its buffer), one
// larger than that forgets every frame before it (the frames kept must
// follow each other: a gap among them would let a join skip a frame the
// new connection sends as new). No frame goes back without a buffer.
func TestS40wsPastFrames(t *testing.T) {
	var p pastFrames
	f := &schema.WsFrame{}
	put := func(s string, capacity int) {
		f.Data = append(make([]byte, 0, max(capacity, len(s))), s...)
		p.keep(f)
		require.NotNil(t, f.Data)
	}
	put("a", 100)
	put("b", 100)
	require.Equal(t, []string{"a", "b"}, s40wsKept(&p))
	big := make([]byte, 0, pastMaxCap+1)
	f.Data = append(big, "c"...)
	p.keep(f)
	require.Equal(t, cap(big), cap(f.Data), "a large buffer stays with the frame")
	require.Equal(t, []string{"a", "b", "c"}, s40wsKept(&p))
	put(string(make([]byte, pastMaxCap+1)), 0)
	require.Len(t, f.Data, pastMaxCap+1, "a frame too large to keep keeps its buffer")
	require.Empty(t, s40wsKept(&p), "a frame too large to keep: those before it are forgotten")
	put("d", 100)
	require.Equal(t, []string{"d"}, s40wsKept(&p))
	var want []string
	for i := range pastSize + 5 {
		s := fmt.Sprint(i)
		put(s, 100)
		want = append(want, s)
	}
	require.Equal(t, want[5:], s40wsKept(&p))
}
