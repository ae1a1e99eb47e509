package wsclient

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// The Reconnecting event tells one attempt's truth: its Delay, its Err and
// its Reason come from the same failure. A rotation refused with 429 and
// Retry-After 7 s, then the old connection lost (no close frame): the
// redial keeps the venue's wait (s43ws), so the event's Delay is the
// rotation's Retry-After, and its Err is that refusal (a *HandshakeError
// with RetryAfter, as the package doc says of a Delay that is the venue's
// wait), its Reason ReasonRotation; Delay ends at the retry's instant.
// The loss itself was told by the Disconnected event before. Before
// s44ws the event carried the loss's EOF and ReasonReadError beside the
// rotation's 7 s: the error of one attempt with the delay of another.
func TestS44wsReconnectingTellsTheWaitsOwnError(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	p.answer = refuseDial(2, "429 Too Many Requests\r\nRetry-After: 7")
	opts := peerOptions()
	opts.RotationOverlap = time.Second
	opts.BackoffBase = 10 * time.Millisecond
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	require.NoError(t, h.c.Rotate())
	h.rec.waitFor(t, "rotation failed", failedRotation(1))
	retry := h.clock.Now().Add(7 * time.Second)
	require.Eventually(t, func() bool { return h.clock.armedAt(retry) }, wait, time.Millisecond, "retry armed at Retry-After")

	_ = p.conn(1).c.Close() // connection 1 lost: no close frame
	lost := h.rec.waitFor(t, "disconnected", isState(schema.ConnDisconnected))
	require.Equal(t, ReasonReadError, lost.Reason, "the loss, told once: %v", lost)
	re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.EqualValues(t, 1, re.ConnID, "the connection lost")
	require.Equal(t, 1, re.Attempt)
	require.Equal(t, retry, re.At.Add(re.Delay), "the wait ends at the venue's instant; event %v", re)
	var he *HandshakeError
	require.ErrorAs(t, re.Err, &he, "the error behind the Delay; event %v", re)
	require.Equal(t, 429, he.StatusCode)
	require.Equal(t, 7*time.Second, he.RetryAfter)
	require.Equal(t, ReasonRotation, re.Reason, "the failure that asked for the wait")
	h.rec.waitFor(t, "reconnected", connected(2)) // the refused dial took no id
	h.finish(nil, p.close)
}

// Without a wait asked by a failed rotation, the Reconnecting event is
// the loss's: its Err and Reason, and the backoff of its attempt.
func TestS44wsReconnectingAfterAPlainLossIsTheLoss(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	p := newRawPeer(t, steadyPeer)
	opts := peerOptions()
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	_ = p.conn(1).c.Close()
	lost := h.rec.waitFor(t, "disconnected", isState(schema.ConnDisconnected))
	re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
	require.Equal(t, lost.Reason, re.Reason)
	require.Equal(t, lost.Err, re.Err)
	require.LessOrEqual(t, re.Delay, h.c.opts.BackoffBase, "the first attempt's backoff")
	h.rec.waitFor(t, "reconnected", connected(2))
	h.finish(nil, p.close)
}
