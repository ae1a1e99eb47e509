package wsclient

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// BackoffReset counts the time the client has delivered without a break,
// not the age of the connection that broke: a rotation replaces a
// connection make-before-break, without a gap. After three refused dials
// (attempt 3), an hour of delivery over a rotation, and the new connection
// lost 30 s after the rotation, the redial is attempt 1 again, not 4
// (a backoff of up to BackoffBase·2³ for a client that had been fine).
// And the events name the connection lost: connection 2, not the first
// connection of the run.
func TestBackoffResetSpansRotations(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	kill := make(chan struct{})
	closes := make(chan []byte, 4)
	first := answeringPeer(closes)
	p := newRawPeer(t, func(pc *peerConn) {
		switch pc.n {
		case 4: // the client's connection 1
			first(pc)
		case 5: // connection 2, by rotation: lost
			pc.readClient()
			if pc.expectSubs() != nil {
				return
			}
			_ = pc.write(text(fmt.Sprintf(`{"conn":%d}`, pc.n)))
			select {
			case <-kill:
				_ = pc.c.Close()
			case <-pc.done:
			}
		default:
			steadyPeer(pc)
		}
	})
	p.answer = func(w io.Writer, n int, key string) bool {
		if n <= 3 {
			return refuseDial(n, "503 Service Unavailable")(w, n, key)
		}
		return refuseDial(0, "")(w, n, key)
	}
	opts := peerOptions()
	opts.RotationOverlap = time.Second
	opts.BackoffReset = time.Minute
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":4}`)
	// Events reach the recorder from their own queue, behind the frames:
	// connection 1's Connected comes after the three refusals' events.
	h.rec.waitFor(t, "connected on 1", func(ev Event) bool { return ev.State == schema.ConnConnected && ev.ConnID == 1 })
	require.Equal(t, 3, h.rec.count(isState(schema.ConnReconnecting)))
	h.clock.advance(time.Hour) // delivering all along
	require.NoError(t, h.c.Rotate())
	h.switchUnaligned(opts.RotationOverlap)
	h.rec.waitFor(t, "connected on 2 by rotation", func(ev Event) bool {
		return ev.State == schema.ConnConnected && ev.ConnID == 2 && ev.Reason == ReasonRotation
	})
	h.sink.waitFor(t, `{"conn":5}`)
	h.clock.advance(opts.BackoffReset / 2) // under BackoffReset since the rotation
	close(kill)
	re := h.rec.waitFor(t, "reconnecting after connection 2", func(ev Event) bool {
		return ev.State == schema.ConnReconnecting && ev.At.After(h.clock.Now().Add(-time.Second))
	})
	require.Equal(t, 1, re.Attempt, "an hour without a break is a stable period")
	require.EqualValues(t, 2, re.ConnID, "the connection lost is the rotation's, not the first")
	lost := h.rec.waitFor(t, "disconnected", func(ev Event) bool { return ev.State == schema.ConnDisconnected && ev.Reason == ReasonReadError })
	require.EqualValues(t, 2, lost.ConnID, "the connection lost is the rotation's, not the first")
	h.sink.waitFor(t, `{"conn":6}`)
	h.finish(nil, p.close)
}
