package wsclient

import (
	"strconv"
	"testing"
	"time"

	"github.com/meltica/meltica/schema"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// startAnswers3 is startAnswers on a scripted venue that also takes a
// third connection, which subscribes (third is closed) and then sends
// nothing: a rotation to it stays under way.
func startAnswers3(t *testing.T, isAnswer func([]byte) bool, before func(f *schema.WsFrame)) (r *answersRig, third chan struct{}) {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	sc := &scripted{}
	for i := range sc.out {
		sc.out[i] = make(chan string, 64)
		sc.subd[i] = make(chan struct{})
	}
	third = make(chan struct{})
	sc.v = newVenue(t, func(s *session) {
		if s.n > 3 || s.readN(len(testSubs)) != nil {
			return
		}
		if s.n == 3 {
			close(third)
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
	r = &answersRig{sc: sc, ks: &seqSink{conns: map[uint64]int{}}}
	r.answers.Store(&[]string{})
	opts := rotationOptions()
	opts.IsData = func(b []byte) bool { return !isAnswer(b) }
	hook := func(f *schema.WsFrame) error {
		defer r.x.enter()()
		if before != nil {
			before(f)
		}
		if isAnswer(f.Data) {
			old := r.answers.Load()
			next := append(append([]string(nil), *old...), strconv.FormatUint(f.ConnID, 10)+":"+string(f.Data))
			r.answers.Store(&next)
			return nil
		}
		return r.ks.hook(f)
	}
	r.h = start(t, sc.v.url(), opts, &sink{hook: hook}, leaks)
	return r, third
}

// A retired connection's answer (Options.IsData: no data) is delivered
// under deliverMu; the live connection's reader may be in a lock-free
// handler call begun before a new rotation made it the old connection of
// that rotation (modeOverlap): the answer waits for that call too, the
// handler never runs twice at once. handleReplaced held only a live
// (modeLive) connection to the lock, and ran the answer beside the call
// under way: the session's parser raced (TestS35ctRotationLosesNoTrade-
// Unannounced under -race: normalize.(*Parser).handle written by both
// readers). TestS35rotRetiredAnswerWaitsWhileRotating failed before:
// overlaps 1.
func TestS35rotRetiredAnswerWaitsWhileRotating(t *testing.T) {
	inside, release := make(chan struct{}), make(chan struct{})
	r, third := startAnswers3(t, isAck, func(f *schema.WsFrame) {
		if f.ConnID == 2 && string(f.Data) == seqMsg(4) {
			close(inside)
			<-release
		}
	})
	r.rotateAtThree(t)
	nb := r.h.live()
	require.Equal(t, uint64(2), nb.id)
	r.sc.send(2, seqMsg(4)) // held in the handler, lock-free
	recvWait(t, inside, "connection 2's message 4 in the handler")
	require.NoError(t, r.h.c.Rotate()) // connection 2 is now the old one: modeOverlap
	recvWait(t, third, "connection 3 subscribed")
	require.Equal(t, modeOverlap, nb.mode.Load())
	r.sc.send(1, `{"ack":"late"}`) // connection 1, retired, still open
	require.Eventually(t, func() bool {
		return nb.handling.Load() == handlerAwaited || r.x.overlaps.Load() > 0 || len(r.got()) > 0
	}, wait, time.Millisecond, "the answer read")
	close(release)
	require.Eventually(t, func() bool { return len(r.got()) == 1 }, wait, time.Millisecond, "the answer delivered")
	r.sc.send(2, seqMsg(5))
	require.Eventually(t, func() bool { return r.ks.last() == 5 }, wait, time.Millisecond, "connection 2 up to 5")
	r.h.finish(r.sc.v)

	r.ks.requireEachOnce(t)
	require.Zero(t, r.x.overlaps.Load(), "the answer's handler call began while message 4's ran")
}
