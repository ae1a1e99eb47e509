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
	out  [4]chan string
	subd [4]chan struct{} // closed once connection n is subscribed
}

func newScripted(t *testing.T) *scripted { return newScriptedHolding(t, 0, nil) }

// newScriptedHolding is newScripted whose connection hold (0: none), once
// subscribed, closes held and sends nothing: a rotation to it stays
// under way.
func newScriptedHolding(t *testing.T, hold int, held chan struct{}) *scripted {
	sc := &scripted{}
	for i := range sc.out {
		sc.out[i] = make(chan string, 64)
		sc.subd[i] = make(chan struct{})
	}
	sc.v = newVenue(t, func(s *session) {
		if s.n >= len(sc.out) || s.readN(len(testSubs)) != nil {
			return
		}
		if s.n == hold {
			close(held)
			<-s.ctx.Done()
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

// answersRig is a client on a scripted venue whose sink records the data
// in ks and the answers (frames isAnswer tells, which IsData calls no
// data) by connection, under an exclusive check.
type answersRig struct {
	sc      *scripted
	h       *harness
	ks      *seqSink
	x       exclusive
	answers atomic.Pointer[[]string]
}

// startAnswers starts it; before, when set, runs first in each handler
// call, inside the exclusive check.
func startAnswers(t *testing.T, isAnswer func([]byte) bool, before func(f *schema.WsFrame)) *answersRig {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	return startAnswersOn(t, newScripted(t), leaks, isAnswer, before)
}

// startAnswersOn is startAnswers on sc; leaks is the goroutine baseline
// taken before sc's venue started.
func startAnswersOn(t *testing.T, sc *scripted, leaks goleak.Option, isAnswer func([]byte) bool, before func(f *schema.WsFrame)) *answersRig {
	t.Helper()
	r := &answersRig{sc: sc, ks: &seqSink{conns: map[uint64]int{}}}
	r.answers.Store(&[]string{})
	opts := rotationOptions()
	opts.IsData = func(b []byte) bool { return !isAnswer(b) }
	hook := func(f *schema.WsFrame) error {
		defer r.x.enter()()
		if before != nil {
			before(f)
		}
		if isAnswer(f.Data) {
			for {
				old := r.answers.Load()
				next := append(append([]string(nil), *old...), strconv.FormatUint(f.ConnID, 10)+":"+string(f.Data))
				if r.answers.CompareAndSwap(old, &next) {
					return nil
				}
			}
		}
		return r.ks.hook(f)
	}
	r.h = start(t, r.sc.v.url(), opts, &sink{hook: hook}, leaks)
	return r
}

// got is the answers delivered, as "conn:frame".
func (r *answersRig) got() []string { return *r.answers.Load() }

// Answers are not data, and never an alignment point (Options.IsData says
// which frames are answers): with no AlignKey, a heartbeat the two
// connections send alike matched and joined the streams there, the new
// connection then delivering the data it sent after it, which the old
// connection had delivered already (message 3 twice). Now the join is
// message 4, the first data frame of both streams.
func TestS35wsAnswersAreNoAlignmentPoint(t *testing.T) {
	const hb = `{"hb":1}`
	r := startAnswers(t, func(b []byte) bool { return string(b) == hb }, nil)
	sc, h, ks := r.sc, r.h, r.ks

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
	require.Equal(t, []string{"1:" + hb, "2:" + hb}, r.got(), "each connection's heartbeat delivered")
	require.Zero(t, r.x.overlaps.Load())
	require.Zero(t, h.c.Stats().Unaligned, "aligned on message 4")
}
