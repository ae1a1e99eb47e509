package wsclient

import (
	"slices"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// replacedEnd is a call of Options.OnReplacedEnd, with whether the
// connection's last answer had reached the handler by then.
type replacedEnd struct {
	id       uint64
	answered bool
}

// TestS37rvwsReplacedEndReported: with IsData, the connection a rotation
// replaced stays open RotationOverlap for its answers; when the venue
// closes it before that (the test's clock never moves), OnReplacedEnd
// is called with its id at once, after the answer it delivered last
// reached the handler, so that a host waiting for answers on it (a
// session's requests in their grace) ends those waits then, not when
// the grace would have run out. Before s37rvws nothing told the host.
func TestS37rvwsReplacedEndReported(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	subscribed := make(chan int, 4)
	v := newVenue(t, func(s *session) {
		subscribed <- s.n
		for s.readN(1) == nil {
		}
	})
	k := &sink{}
	ended := make(chan replacedEnd, 4)
	opts := rotationOptions()
	opts.IsData = func(b []byte) bool { return !strings.Contains(string(b), `"ack"`) }
	opts.OnReplacedEnd = func(id uint64) {
		ended <- replacedEnd{id: id, answered: slices.Contains(k.got(), `{"ack":1}`)}
	}
	h := start(t, v.url(), opts, k, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	require.Equal(t, 1, recvWait(t, subscribed, "connection 1 subscribed"))
	require.NoError(t, h.c.Rotate())
	require.Equal(t, 2, recvWait(t, subscribed, "connection 2 subscribed"))
	require.NoError(t, v.session(2).send(`{"k":1}`))
	h.standbyQueued()
	require.NoError(t, v.session(1).send(`{"k":1}`))
	h.rec.waitFor(t, "switched", connected(2))
	select {
	case e := <-ended:
		t.Fatalf("connection %d reported ended while it is open", e.id)
	default:
	}
	old := v.session(1)
	require.NoError(t, old.send(`{"ack":1}`))
	require.NoError(t, old.ws.Close(websocket.StatusGoingAway, "bye"))
	e := recvWait(t, ended, "the replaced connection's end")
	require.Equal(t, replacedEnd{id: 1, answered: true}, e)
	require.Zero(t, h.rec.count(func(ev Event) bool { return ev.State == schema.ConnDisconnected }),
		"the replaced connection's end is no loss")
	h.finish(v)
	select {
	case e := <-ended:
		t.Fatalf("connection %d reported ended twice or the live one reported", e.id)
	default:
	}
}
