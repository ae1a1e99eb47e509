package wsclient

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

func isAck(b []byte) bool { return bytes.HasPrefix(b, []byte(`{"ack":`)) }

// rotateAtThree delivers 1 and 2 on connection 1, then rotates, the
// streams joining at 3 (queued on connection 2 first): connection 1 is
// retired, connection 2 live and not skipping.
func (r *answersRig) rotateAtThree(t *testing.T) {
	t.Helper()
	recvWait(t, r.sc.subd[1], "connection 1 subscribed")
	r.sc.send(1, seqMsg(1), seqMsg(2))
	r.ks.waitCount(t, 2, "connection 1")
	require.NoError(t, r.h.c.Rotate())
	recvWait(t, r.sc.subd[2], "connection 2 subscribed")
	r.sc.send(2, seqMsg(3)) // queued
	r.sc.send(1, seqMsg(3)) // the join: connection 1 retired
	require.Eventually(t, func() bool { return r.h.c.Stats().Rotations == 1 }, wait, time.Millisecond, "rotation")
	// Counted before connection 2 goes live (goLive): a frame it reads
	// until then is delivered under the lock, not lock-free (s41rvws:
	// heldAtFour's message 4 was, on a loaded machine, and the answer
	// then waited for the lock, never for the call).
	recvWait(t, r.h.live().liveCh, "connection 2 live")
}

// During a rotation the old connection's answers after the join (a
// refusal or an ack of a request it sent) were dropped with its data once
// it was retired: now the frames Options.IsData calls no data are
// delivered until it closes, its data still dropped (the new connection
// has it), and never beside a handler call of the new connection.
func TestS35wsRetiredConnectionAnswersDelivered(t *testing.T) {
	r := startAnswers(t, isAck, nil)
	r.rotateAtThree(t)
	// Connection 1, retired, not yet closed (its close handshake waits on
	// the test's clock): data, dropped, then an answer.
	r.sc.send(1, seqMsg(4), `{"ack":"order 7 refused"}`)
	require.Eventually(t, func() bool { return len(r.got()) == 1 }, wait, time.Millisecond, "the retired connection's answer")
	r.sc.send(2, seqMsg(4), seqMsg(5))
	require.Eventually(t, func() bool { return r.ks.last() == 5 }, wait, time.Millisecond, "connection 2 up to 5")
	r.h.finish(r.sc.v)

	r.ks.requireEachOnce(t)
	require.Equal(t, []string{`1:{"ack":"order 7 refused"}`}, r.got())
	require.Zero(t, r.x.overlaps.Load())
}

// The retired connection's answer waits for the handler call under way on
// the new connection, which delivers without the lock: the handler is
// never called twice at once (two calls at once race a parser's state).
func TestS35wsRetiredAnswerWaitsForTheLiveHandler(t *testing.T) {
	r, nb, release := heldAtFour(t, func(before func(*schema.WsFrame)) *answersRig { return startAnswers(t, isAck, before) })
	r.lateAnswerWaits(t, nb, release)
	r.sc.send(2, seqMsg(5))
	require.Eventually(t, func() bool { return r.ks.last() == 5 }, wait, time.Millisecond, "connection 2 up to 5")
	r.h.finish(r.sc.v)

	r.ks.requireEachOnce(t)
	require.Zero(t, r.x.overlaps.Load(), "the answer's handler call began while message 4's ran")
}

// heldAtFour starts a rig (start, given the handler's hook), rotates at
// three, and holds connection 2's message 4 in the handler, a lock-free
// call: it returns the rig, connection 2 (live) and what releases the
// call.
func heldAtFour(t *testing.T, start func(before func(*schema.WsFrame)) *answersRig) (r *answersRig, nb *conn, release chan struct{}) {
	t.Helper()
	inside := make(chan struct{})
	release = make(chan struct{})
	failed := make(chan struct{}) // a test that failed before it released the call: Close must not wait for it
	r = start(func(f *schema.WsFrame) {
		if f.ConnID == 2 && string(f.Data) == seqMsg(4) {
			close(inside)
			select {
			case <-release:
			case <-failed:
			}
		}
	})
	t.Cleanup(func() { close(failed) }) // before the harness's close (after a failure)
	r.rotateAtThree(t)
	nb = r.h.live()
	require.Equal(t, uint64(2), nb.id)
	r.sc.send(2, seqMsg(4)) // held in the handler, lock-free
	recvWait(t, inside, "connection 2's message 4 in the handler")
	return r, nb, release
}

// lateAnswerWaits sends an answer on connection 1 (retired, still open)
// while nb's handler call is held, waits until it is read and waits for
// that call (or, had it not, is in the handler beside it: the hook
// counts it on entry), releases the call, and waits for the answer.
func (r *answersRig) lateAnswerWaits(t *testing.T, nb *conn, release chan struct{}) {
	t.Helper()
	r.sc.send(1, `{"ack":"late"}`)
	require.Eventually(t, func() bool {
		return nb.handling.Load() == handlerAwaited || r.x.overlaps.Load() > 0 || len(r.got()) > 0
	}, wait, time.Millisecond, "the answer read")
	close(release)
	require.Eventually(t, func() bool { return len(r.got()) == 1 }, wait, time.Millisecond, "the answer delivered")
}
