package wsclient

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// With IsData, a replaced connection is kept open RotationOverlap after
// its switch for its answers — on a Clock that never moves, until the
// next rotation's switch: one replaced connection at a time. Four
// rotations on a stopped clock: each switch closes the connection the
// switch before replaced (the venue sees it close), the latest replaced
// one stays open and its answer is delivered. Before 3c01e0f every
// replaced connection stayed open (connection 1 never closed).
func TestS36rotOneReplacedConnectionAtATime(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	subscribed := make(chan int, 8)
	closed := make(chan int, 8)
	v := newVenue(t, func(s *session) {
		subscribed <- s.n
		for s.readN(1) == nil {
		}
		closed <- s.n
	})
	opts := rotationOptions()
	opts.IsData = func(b []byte) bool { return !strings.Contains(string(b), `"ack"`) }
	h := start(t, v.url(), opts, &sink{}, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	require.Equal(t, 1, recvWait(t, subscribed, "connection 1 subscribed"))
	for r := 1; r <= 4; r++ {
		require.NoError(t, h.c.Rotate())
		require.Equal(t, r+1, recvWait(t, subscribed, "the next connection subscribed"))
		frame := fmt.Sprintf(`{"k":%d}`, r)
		require.NoError(t, v.session(r+1).send(frame)) // queued, then the old connection's copy joins the streams
		h.standbyQueued()
		require.NoError(t, v.session(r).send(frame))
		h.rec.waitFor(t, "switched", connected(uint64(r+1)))
		if r > 1 {
			require.Equal(t, r-1, recvWait(t, closed, "the connection replaced before closed at this switch"))
		}
	}
	require.NoError(t, v.session(4).send(`{"ack":4}`))
	h.sink.waitFor(t, `{"ack":4}`) // connection 4, replaced by 5, still open on the stopped clock
	select {
	case n := <-closed:
		t.Fatalf("connection %d closed: only connections 1–3 are replaced twice over", n)
	default:
	}
	require.Equal(t, uint64(4), h.c.Stats().Rotations)
	h.finish(v)
	require.Equal(t, schema.ConnClosed, h.c.State())
}
