package wsclient

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A second rotation begun while the first one's old connection is still
// open (its grace, RotationOverlap on the Clock) makes the live
// connection modeOverlap while its reader may be in a lock-free handler
// call begun before: the old connection's answer then found the live one
// not modeLive and was delivered at once, beside that call (two handler
// calls at once). It waits for the call now, as modePreparing does.
func TestS35rvwsReplacedAnswerWaitsDuringTheNextRotation(t *testing.T) {
	r, nb, release := heldAtFour(t, func(before func(*schema.WsFrame)) *answersRig { return startAnswers(t, isAck, before) })
	require.NoError(t, r.h.c.Rotate()) // connection 3 never sends: the rotation stays under way
	require.Eventually(t, func() bool { return nb.mode.Load() == modeOverlap }, wait, time.Millisecond, "the second rotation begun")
	r.lateAnswerWaits(t, nb, release)
	r.h.finish(r.sc.v)

	require.Equal(t, []string{`1:{"ack":"late"}`}, r.got())
	require.Zero(t, r.x.overlaps.Load(), "the answer's handler call began while message 4's ran")
}
