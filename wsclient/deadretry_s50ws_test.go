package wsclient

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// A failed rotation's retry that comes due as the old connection dies is
// no rotation: the old connection is lost, and the client redials as
// after any loss (one loss, one report: Disconnected). Before s50ws
// serve's select chose at random between the retry's timer and the old
// connection's death when both were ready, and half the time rotated a
// dead connection: a Rotating event naming it after its death, then the
// redial announced as a rotation with ErrRotationUnaligned, a second
// report of the one gap (CI, TestS38wsJoinedOldDiesThenRotationFailsOneLoss,
// whose fake clock moved past the retry before serve's select). The
// retry and the death are made ready together here: the rotation's
// failure is announced (Connected with the error, logged on serve's
// goroutine), and the test's Logger holds it there while connection 1
// dies and the clock passes the retry's instant.
func TestS50wsRetryDueAsOldDiesIsNoRotation(t *testing.T) {
	for i := range 12 { // serve's select chose at random: 12 tries miss the old fault 1 in 4096
		leaks := goleak.IgnoreCurrent()
		v, subscribed := subscribingVenue(t)
		opts, fc := pacedRotationOptions()
		opts.BackoffBase, opts.BackoffCap = time.Second, time.Second
		held, release := make(chan struct{}), make(chan struct{})
		failedMsg := "wsclient: " + schema.ConnConnected.String()
		var once bool // the handler runs on serve's goroutine alone here
		opts.Logger = slog.New(syncHandler{on: func(r slog.Record) {
			if once || r.Level != slog.LevelWarn || r.Message != failedMsg {
				return
			}
			once = true
			close(held)
			<-release
		}})
		h := start(t, v.url(), opts, &sink{}, leaks)
		h.clock = fc
		upPaced(t, h, v, subscribed)
		old := h.live()
		require.NoError(t, h.c.Rotate())
		require.Equal(t, 2, recvWait(t, subscribed, "connection 2 dialled"))
		require.Eventually(t, func() bool { return len(v.received(2)) == 1 && pacedWait(fc) }, wait, time.Millisecond,
			"connection 2's second subscription waiting for its turn")
		require.NoError(t, v.session(2).ws.CloseNow()) // the rotation fails, connection 1 kept
		recvWait(t, held, "the rotation's failure announced")
		require.NoError(t, v.session(1).ws.CloseNow())
		recvWait(t, old.dead, "connection 1 dead")
		fc.advance(opts.BackoffCap) // to the retry, whatever its jitter: its timer fires
		close(release)
		h.advanceUntil(250*time.Millisecond, "reconnected", func() bool {
			st := h.c.Stats()
			return st.State == schema.ConnConnected && st.ConnID == 3
		})
		evs := h.rec.all()
		require.Zero(t, h.rec.count(rotating(1))-1, "try %d: a second rotation of connection 1; events %v", i, evs)
		require.Zero(t, h.c.Stats().Unaligned, "try %d: events %v", i, evs)
		require.Len(t, lossEvents(h), 1, "try %d: one loss, one report; events %v", i, evs)
		require.True(t, h.lostConn1())
		require.Zero(t, h.rec.count(func(ev Event) bool { return errors.Is(ev.Err, ErrRotationUnaligned) }))
		h.finish(v)
	}
}
