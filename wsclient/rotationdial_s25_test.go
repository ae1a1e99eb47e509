package wsclient

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// A rotation's dial (and its paced subscriptions) ran in the client's
// main loop, which watches the live connection: the old connection lost
// while the new one was still dialling (a slow handshake may take up to
// DialTimeout, 10 s, and the subscriptions a quarter second each) went
// unreported until the dial ended — no Disconnected event, the state
// still Connected, the host trading on a stream that had stopped, a gap
// it did not know of. The loss is now reported when it happens, once,
// and the dial under way becomes the reconnection.
func TestLossDuringRotationDialReported(t *testing.T) {
	t.Run("dial succeeds", func(t *testing.T) { lossDuringRotationDial(t, false) })
	t.Run("dial refused", func(t *testing.T) { lossDuringRotationDial(t, true) })
}

// lossDuringRotationDial: connection 1 is lost while the rotation's
// handshake hangs; then the handshake is answered (101, or 503 when
// refused: the client redials).
func lossDuringRotationDial(t *testing.T, refused bool) {
	leaks := goleak.IgnoreCurrent()
	kill := make(chan struct{})
	hold := make(chan struct{})
	p := newRawPeer(t, func(pc *peerConn) {
		if pc.n != 1 {
			steadyPeer(pc)
			return
		}
		pc.readClient()
		if pc.expectSubs() != nil {
			return
		}
		_ = pc.write(text(`{"conn":1}`))
		select {
		case <-kill:
			_ = pc.c.Close() // lost: no close frame
		case <-pc.done:
		}
	})
	p.answer = func(w io.Writer, n int, key string) bool {
		if n == 2 {
			select { // the rotation's handshake hangs
			case <-hold:
			case <-p.done:
				return false
			}
			if refused {
				return refuseDial(2, "503 Service Unavailable")(w, n, key)
			}
		}
		return answer101(w, key)
	}
	opts := peerOptions()
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	require.NoError(t, h.c.Rotate())
	h.rec.waitFor(t, "rotating", rotating(1))
	close(kill)
	lost := conn1Lost(t, h) // while connection 2's handshake still hangs
	require.Equal(t, ReasonReadError, lost.Reason, "err %v", lost.Err)
	require.Equal(t, schema.ConnDisconnected, h.c.State())
	err := h.c.Write(context.Background(), []byte(`{"op":"order"}`))
	require.ErrorIs(t, err, ErrNotSent, "the lost connection takes no write")

	close(hold)
	peerConn := 2 // the venue's count; the client's is 2 either way (a refused dial is no connection)
	if refused {
		peerConn = 3
		re := h.rec.waitFor(t, "reconnecting", isState(schema.ConnReconnecting))
		require.EqualValues(t, 1, re.ConnID, "the connection lost")
		require.Equal(t, 1, re.Attempt)
	}
	h.sink.waitFor(t, fmt.Sprintf(`{"conn":%d}`, peerConn))
	h.rec.waitFor(t, "connected", connected(2))
	require.Equal(t, 1, h.rec.count(func(ev Event) bool { return ev.State == schema.ConnDisconnected }),
		"the loss is reported once; events %v", h.rec.all())
	require.Equal(t, uint64(1), h.c.Stats().TotalReconnects())
	require.Equal(t, schema.ConnConnected, h.c.State())
	require.NoError(t, h.c.Write(context.Background(), []byte(`{"op":"order"}`)))
	h.finish(nil, p.close)
}

// The old connection's close handshake after a switch (up to CloseTimeout
// for a venue that does not answer it) ran in the client's main loop too:
// the new live connection lost meanwhile was reported only once the
// handshake's bound had passed. The retired connection is now closed
// beside the main loop, which Run still waits for.
func TestLossDuringOldCloseHandshakeReported(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	kill := make(chan struct{})
	p := newRawPeer(t, func(pc *peerConn) {
		if pc.n != 2 {
			steadyPeer(pc) // never answers a close frame
			return
		}
		pc.readClient()
		if pc.expectSubs() != nil {
			return
		}
		_ = pc.write(text(`{"conn":2}`))
		select {
		case <-kill:
			_ = pc.c.Close()
		case <-pc.done:
		}
	})
	opts := peerOptions()
	opts.RotationOverlap = time.Second
	h := start(t, p.url(), opts, &sink{}, leaks)
	h.sink.waitFor(t, `{"conn":1}`)
	require.NoError(t, h.c.Rotate())
	h.switchUnaligned(opts.RotationOverlap)
	h.rec.waitFor(t, "connected on 2", func(ev Event) bool {
		return ev.State == schema.ConnConnected && ev.ConnID == 2 && ev.Reason == ReasonRotation
	})
	close(kill) // connection 1's close handshake waits for the clock, which does not move
	lost := h.rec.waitFor(t, "connection 2 lost", func(ev Event) bool {
		return ev.State == schema.ConnDisconnected && ev.ConnID == 2
	})
	require.Equal(t, ReasonReadError, lost.Reason, "err %v", lost.Err)
	select {
	case <-p.conn(1).gone:
		t.Fatal("connection 1's close handshake ended before connection 2's loss was reported: the loss waited for it")
	default:
	}
	h.finish(nil, p.close)
}
