package wsclient

import (
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
	third = make(chan struct{})
	return startAnswersOn(t, newScriptedHolding(t, 3, third), leaks, isAnswer, before), third
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
	var third chan struct{}
	r, nb, release := heldAtFour(t, func(before func(*schema.WsFrame)) *answersRig {
		var r *answersRig
		r, third = startAnswers3(t, isAck, before)
		return r
	})
	require.NoError(t, r.h.c.Rotate()) // connection 2 is now the old one: modeOverlap
	recvWait(t, third, "connection 3 subscribed")
	require.Equal(t, modeOverlap, nb.mode.Load())
	r.lateAnswerWaits(t, nb, release)
	r.sc.send(2, seqMsg(5))
	require.Eventually(t, func() bool { return r.ks.last() == 5 }, wait, time.Millisecond, "connection 2 up to 5")
	r.h.finish(r.sc.v)

	r.ks.requireEachOnce(t)
	require.Zero(t, r.x.overlaps.Load(), "the answer's handler call began while message 4's ran")
}
