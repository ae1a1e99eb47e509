package wsclient

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// scripted is a venue whose connection n, once subscribed, sends what the
// test puts in its channel, in order. Unless reads says so, a connection
// reads nothing after its subscriptions: it never answers a close
// handshake (the client's bound, on the test's clock, cuts it), so a
// rotation's old connection stays open for the test to send on.
type scripted struct {
	v    *venue
	out  [3]chan string
	subd [3]chan struct{} // closed once connection n is subscribed
}

func newScripted(t *testing.T) *scripted {
	sc := &scripted{}
	for i := range sc.out {
		sc.out[i] = make(chan string, 64)
		sc.subd[i] = make(chan struct{})
	}
	sc.v = newVenue(t, func(s *session) {
		if s.n >= len(sc.out) || s.readN(len(testSubs)) != nil {
			return
		}
		close(sc.subd[s.n])
		for {
			select {
			case m := <-sc.out[s.n]:
				if s.send(m) != nil {
					return
				}
			case <-s.ctx.Done():
				return
			}
		}
	})
	return sc
}

// send queues msgs on connection n.
func (sc *scripted) send(n int, msgs ...string) {
	for _, m := range msgs {
		sc.out[n] <- m
	}
}

func seqMsg(n int) string { return `{"seq":` + strconv.Itoa(n) + `}` }

// exclusive is a handler hook that fails the test's check when two
// handler calls overlap (the handler's contract: never twice at once).
type exclusive struct {
	in, overlaps atomic.Int32
}

func (x *exclusive) enter() func() {
	if x.in.Add(1) > 1 {
		x.overlaps.Add(1)
	}
	return func() { x.in.Add(-1) }
}

// answersSink records the data in ks and the answers (frames isAnswer
// tells) by connection, under an exclusive check.
func answersSink(ks *seqSink, x *exclusive, isAnswer func([]byte) bool, answers *atomic.Pointer[[]string]) *sink {
	return &sink{hook: func(f *schema.WsFrame) error {
		defer x.enter()()
		if isAnswer(f.Data) {
			for {
				old := answers.Load()
				next := append(append([]string(nil), *old...), strconv.FormatUint(f.ConnID, 10)+":"+string(f.Data))
				if answers.CompareAndSwap(old, &next) {
					return nil
				}
			}
		}
		return ks.hook(f)
	}}
}

// Answers are not data, and never an alignment point (Options.IsData says
// which frames are answers): with no AlignKey, a heartbeat the two
// connections send alike matched and joined the streams there, the new
// connection then delivering the data it sent after it, which the old
// connection had delivered already (message 3 twice). Now the join is
// message 4, the first data frame of both streams.
func TestS35wsAnswersAreNoAlignmentPoint(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	sc := newScripted(t)
	const hb = `{"hb":1}`
	isAnswer := func(b []byte) bool { return string(b) == hb }
	opts := rotationOptions()
	opts.IsData = func(b []byte) bool { return !isAnswer(b) }
	ks := &seqSink{conns: map[uint64]int{}}
	var x exclusive
	var answers atomic.Pointer[[]string]
	answers.Store(&[]string{})
	h := start(t, sc.v.url(), opts, answersSink(ks, &x, isAnswer, &answers), leaks)

	recvWait(t, sc.subd[1], "connection 1 subscribed")
	sc.send(1, seqMsg(1), seqMsg(2), seqMsg(3))
	ks.waitCount(t, 3, "connection 1")
	require.NoError(t, h.c.Rotate())
	recvWait(t, sc.subd[2], "connection 2 subscribed")
	// The old connection, in the overlap: a heartbeat, then 4.
	sc.send(1, hb, seqMsg(4))
	ks.waitCount(t, 4, "connection 1 in the overlap")
	// The new connection: the same heartbeat, then its stream from 3.
	sc.send(2, hb, seqMsg(3), seqMsg(4), seqMsg(5))
	require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "rotation")
	sc.send(2, seqMsg(6))
	ks.waitCount(t, 5, "connection 2")
	require.Eventually(t, func() bool { return ks.last() == 6 }, wait, time.Millisecond, "connection 2 up to 6")
	h.finish(sc.v)

	ks.requireEachOnce(t)
	require.Equal(t, []string{"1:" + hb, "2:" + hb}, *answers.Load(), "each connection's heartbeat delivered")
	require.Zero(t, x.overlaps.Load())
	require.Zero(t, h.c.Stats().Unaligned, "aligned on message 4")
}
