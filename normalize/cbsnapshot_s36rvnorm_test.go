package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS36rvnormCoinbaseSnapshotRestates: Coinbase Advanced Trade "User
// channel": every new connection's first events are a "snapshot" of the
// open orders. Of an order already reported, with the status it was
// reported with and nothing filled since, it tells nothing new: FIX
// ExecType I (ExecOrderStatus), not a second ExecNew a strategy would take
// for another accepted order. A status that changed while no connection
// was up is still that status's report, and a first-seen order's
// snapshot keeps its status's ExecType.
func TestS36rvnormCoinbaseSnapshotRestates(t *testing.T) {
	c := newConnFeed(t, schema.VenueCoinbase)
	step := func(conn uint64, typ, status string) schema.Execution {
		t.Helper()
		evs, err := c.feed(conn, string(coinbaseUser(typ, status, "0", "1", "0", "0")))
		require.NoError(t, err)
		require.Len(t, evs, 1)
		return evs[0].Exec
	}
	assert.Equal(t, schema.ExecNew, step(1, "snapshot", "OPEN").ExecType, "first seen: the order's status")
	x := step(2, "snapshot", "OPEN")
	assert.Equal(t, schema.ExecOrderStatus, x.ExecType, "restated after a reconnect")
	assert.Equal(t, schema.StatusNew, x.Status)
	assert.Equal(t, schema.ExecPendingCancel, step(3, "snapshot", "CANCEL_QUEUED").ExecType, "changed while disconnected: news")
	assert.Equal(t, schema.ExecOrderStatus, step(4, "snapshot", "CANCEL_QUEUED").ExecType)
	assert.Equal(t, schema.ExecCanceled, step(4, "update", "CANCELLED").ExecType)
	assert.Equal(t, schema.ExecOrderStatus, step(5, "snapshot", "CANCELLED").ExecType, "an ended order restated")
}
