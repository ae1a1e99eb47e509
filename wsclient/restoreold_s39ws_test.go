package wsclient

import (
	"errors"
	"testing"
	"time"

	"github.com/meltica/meltica/schema"
	"github.com/stretchr/testify/require"
)

// A rotation given up after its streams were joined (the new connection
// fails while it subscribes) reports the gap, ErrRotationUnaligned with
// the old connection's id, before the old connection delivers again; the
// old connection dying right after that report is reported lost too.
// The two events name the same connection, no frame reached the handler
// between them: what a host (package session) needs to take them for the
// one gap they are (the doc's promise; the race cannot be closed in
// wsclient, see restoreOld).
func TestS39wsRestoreOldThenDiesSameGap(t *testing.T) {
	var atReport uint64
	h, v := joinedDuringDial(t, false, func(h *harness, v *venue, nb *conn) {
		require.NoError(t, v.session(2).ws.CloseNow()) // connection 2 fails while subscribing
		recvWait(t, nb.dead, "connection 2 dead")
		h.rec.waitFor(t, "the gap reported", func(ev Event) bool {
			return errors.Is(ev.Err, ErrRotationUnaligned) && ev.ConnID == 1
		})
		atReport = h.c.Stats().Messages
		require.NoError(t, v.session(1).ws.CloseNow()) // connection 1 dies after the report, delivering nothing
		h.rec.waitFor(t, "connection 1 lost", func(ev Event) bool {
			return ev.State == schema.ConnDisconnected && ev.ConnID == 1
		})
		require.Equal(t, atReport, h.c.Stats().Messages, "no frame between the two events")
		h.advanceUntil(250*time.Millisecond, "reconnected", func() bool {
			st := h.c.Stats()
			return st.State == schema.ConnConnected && st.ConnID == 3
		})
	})
	loss := lossEvents(h)
	require.Len(t, loss, 2, "events %v", h.rec.all())
	require.True(t, errors.Is(loss[0].Err, ErrRotationUnaligned), "events %v", h.rec.all())
	require.Equal(t, schema.ConnDisconnected, loss[1].State)
	require.Equal(t, loss[0].ConnID, loss[1].ConnID)
	h.finish(v)
}
