package wsclient

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// During a rotation the old connection's answers after the join (a
// refusal or an ack of a request it sent) were dropped with its data once
// it was retired: now the frames Options.IsData calls no data are
// delivered until it closes, its data still dropped (the new connection
// has it), and never beside a handler call of the new connection.
func TestS35wsRetiredConnectionAnswersDelivered(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	sc := newScripted(t)
	isAnswer := func(b []byte) bool { return bytes.HasPrefix(b, []byte(`{"ack":`)) }
	opts := rotationOptions()
	opts.IsData = func(b []byte) bool { return !isAnswer(b) }
	ks := &seqSink{conns: map[uint64]int{}}
	var x exclusive
	var answers atomic.Pointer[[]string]
	answers.Store(&[]string{})
	h := start(t, sc.v.url(), opts, answersSink(ks, &x, isAnswer, &answers), leaks)

	recvWait(t, sc.subd[1], "connection 1 subscribed")
	sc.send(1, seqMsg(1), seqMsg(2))
	ks.waitCount(t, 2, "connection 1")
	require.NoError(t, h.c.Rotate())
	recvWait(t, sc.subd[2], "connection 2 subscribed")
	sc.send(2, seqMsg(3)) // queued
	sc.send(1, seqMsg(3)) // the join: connection 1 retired
	require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "rotation")
	// Connection 1, retired, not yet closed (its close handshake
	// waits on the test's clock): data, dropped, then an answer.
	sc.send(1, seqMsg(4), `{"ack":"order 7 refused"}`)
	require.Eventually(t, func() bool { return len(*answers.Load()) == 1 }, wait, time.Millisecond, "the retired connection's answer")
	sc.send(2, seqMsg(4), seqMsg(5))
	require.Eventually(t, func() bool { return ks.last() == 5 }, wait, time.Millisecond, "connection 2 up to 5")
	h.finish(sc.v)

	ks.requireEachOnce(t)
	require.Equal(t, []string{`1:{"ack":"order 7 refused"}`}, *answers.Load())
	require.Zero(t, x.overlaps.Load())
}

// The retired connection's answer waits for the handler call under way on
// the new connection, which delivers without the lock: the handler is
// never called twice at once (two calls at once race a parser's state).
func TestS35wsRetiredAnswerWaitsForTheLiveHandler(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	sc := newScripted(t)
	isAnswer := func(b []byte) bool { return bytes.HasPrefix(b, []byte(`{"ack":`)) }
	opts := rotationOptions()
	opts.IsData = func(b []byte) bool { return !isAnswer(b) }
	ks := &seqSink{conns: map[uint64]int{}}
	var x exclusive
	var answers atomic.Pointer[[]string]
	answers.Store(&[]string{})
	inside, release := make(chan struct{}), make(chan struct{})
	inner := answersSink(ks, &x, isAnswer, &answers)
	k := &sink{hook: func(f *schema.WsFrame) error {
		if f.ConnID == 2 && string(f.Data) == seqMsg(4) {
			defer x.enter()()
			close(inside)
			<-release
			return ks.hook(f)
		}
		return inner.hook(f)
	}}
	h := start(t, sc.v.url(), opts, k, leaks)

	recvWait(t, sc.subd[1], "connection 1 subscribed")
	sc.send(1, seqMsg(1), seqMsg(2))
	ks.waitCount(t, 2, "connection 1")
	require.NoError(t, h.c.Rotate())
	recvWait(t, sc.subd[2], "connection 2 subscribed")
	sc.send(2, seqMsg(3))
	sc.send(1, seqMsg(3))
	require.Eventually(t, func() bool { return h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "rotation")
	nb := h.live()
	require.Equal(t, uint64(2), nb.id)
	sc.send(2, seqMsg(4)) // held in the handler, lock-free
	recvWait(t, inside, "connection 2's message 4 in the handler")
	sc.send(1, `{"ack":"late"}`)
	// The answer is read and waits for the call under way (or, had it
	// not, is in the handler beside it).
	require.Eventually(t, func() bool { return nb.handling.Load() == handlerAwaited || x.overlaps.Load() > 0 }, wait, time.Millisecond, "the answer read")
	close(release)
	require.Eventually(t, func() bool { return len(*answers.Load()) == 1 }, wait, time.Millisecond, "the answer delivered")
	sc.send(2, seqMsg(5))
	require.Eventually(t, func() bool { return ks.last() == 5 }, wait, time.Millisecond, "connection 2 up to 5")
	h.finish(sc.v)

	ks.requireEachOnce(t)
	require.Zero(t, x.overlaps.Load(), "the answer's handler call began while message 4's ran")
}
