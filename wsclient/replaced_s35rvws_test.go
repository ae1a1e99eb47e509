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
	inside, release := make(chan struct{}), make(chan struct{})
	r := startAnswers(t, isAck, func(f *schema.WsFrame) {
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
	require.NoError(t, r.h.c.Rotate()) // connection 3 never sends: the rotation stays under way
	require.Eventually(t, func() bool { return nb.mode.Load() == modeOverlap }, wait, time.Millisecond, "the second rotation begun")
	r.sc.send(1, `{"ack":"late"}`)
	require.Eventually(t, func() bool {
		return nb.handling.Load() == handlerAwaited || r.x.overlaps.Load() > 0 || len(r.got()) > 0
	}, wait, time.Millisecond, "the answer read")
	close(release)
	require.Eventually(t, func() bool { return len(r.got()) == 1 }, wait, time.Millisecond, "the answer delivered")
	r.h.finish(r.sc.v)

	require.Equal(t, []string{`1:{"ack":"late"}`}, r.got())
	require.Zero(t, r.x.overlaps.Load(), "the answer's handler call began while message 4's ran")
}
