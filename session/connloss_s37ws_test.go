package session_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A rotation whose old connection dies before the switch, the streams not
// joined (connection 2's trades are none of connection 1's): wsclient
// reports the old connection lost (Disconnected: a possible gap) and the
// switch unaligned (ErrRotationUnaligned), both before connection 2's
// first trade, with no trade between them — one gap in the subscribers'
// stream, one gap marker. Before s37ws the session published a marker
// for each.
func TestS37wsOldLostBeforeSwitchOneMarker(t *testing.T) {
	st := newS36rotStream(t)
	s, _, seen := startS36rot(t, st)
	st.send(t, 2, 10, 11)
	st.mu.Lock()
	old := st.conns[0]
	st.mu.Unlock()
	require.NoError(t, old.CloseNow()) // connection 1 dies during the overlap
	require.Eventually(t, seen.has(11), generous, pollEvery, "connection 2's trades")
	require.EqualValues(t, 1, s.Stats().Market[0].Client.Rotations)
	require.EqualValues(t, 1, s.Stats().Market[0].Client.Unaligned)
	requireMarkerFirst(t, seen, 10)
}
