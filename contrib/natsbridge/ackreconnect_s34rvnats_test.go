package natsbridge

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestS34rvnatsAckSentAgainAcrossForcedReconnect: an ack whose
// confirmation is awaited when nats.go drops its link on purpose
// (Conn.ForceReconnect, which a host calls to move to another server)
// is lost with the old socket; nats.go ends the wait at once with
// ErrDisconnected, not a timeout. The Consumer took that for a final
// failure (AckErrors) and never sent the ack again: the server, which
// delivers MaxAckPending (1) at a time, held the next report for the whole
// AckWait (1 h here; the test's wait ran out). Sent again until
// confirmed, the reports flow at once, each once, in order.
func TestS34rvnatsAckSentAgainAcrossForcedReconnect(t *testing.T) {
	// Every ack is swallowed until the link is forced down: the wait for
	// a confirmation is on when it is, not the pause between two tries.
	var hold atomic.Bool
	var swallowed atomic.Int32
	hold.Store(true)
	b := newRVBridge(t, "s34rvforce", &cutDialer{cut: func(p []byte) []byte {
		if !hold.Load() {
			return p
		}
		p, n := cutAcks(p, "+ACK", 1<<30)
		swallowed.Add(int32(n))
		return p
	}})
	b.reports(t, 0, 3)
	b.nextReport(t, 0)
	assert.Eventually(t, func() bool { return swallowed.Load() > 0 }, generous, time.Millisecond)
	require.NoError(t, b.nc.ForceReconnect())
	hold.Store(false)
	b.nextReport(t, 1)
	b.nextReport(t, 2)
	st := b.finish(t, 3)
	require.Zero(t, st.AckErrors, "the ack sent again was confirmed: %+v", st)
}
