package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS37normCoinbaseSnapshotRestates: Coinbase Advanced Trade "User
// channel": every new connection's first events are a "snapshot" of the
// open orders. Of an order already reported, with the status it was
// reported with and nothing filled since, it tells nothing new: FIX
// ExecType I (ExecOrderStatus), not a second ExecNew a strategy would take
// for another accepted order after every reconnect. A status that changed
// while no connection was up is still that status's report, and a
// first-seen order's snapshot keeps its status's ExecType. A snapshot
// refused (its timestamp no instant) records no status: the same
// snapshot sent again is the status's report (s36's attempt recorded it
// while the frame was read).
func TestS37normCoinbaseSnapshotRestates(t *testing.T) {
	c := newConnFeed(t, schema.VenueCoinbase)
	step := func(conn uint64, typ, status string) schema.Execution {
		t.Helper()
		evs, err := c.feed(conn, string(coinbaseUser(typ, status, "0", "1", "0", "0")))
		require.NoError(t, err)
		require.Len(t, evs, 1)
		return s42normExec(t, evs[0])
	}
	assert.Equal(t, schema.ExecNew, step(1, "snapshot", "OPEN").ExecType, "first seen: the order's status")
	x := step(2, "snapshot", "OPEN")
	assert.Equal(t, schema.ExecOrderStatus, x.ExecType, "restated after a reconnect")
	assert.Equal(t, schema.StatusNew, x.Status)

	bad := strings.Replace(string(coinbaseUser("snapshot", "CANCEL_QUEUED", "0", "1", "0", "0")), `"timestamp":"2026-04-07T14:30:06.000000Z"`, `"timestamp":"x"`, 1)
	_, err := c.feed(3, bad)
	require.Error(t, err, "the snapshot with a bad timestamp is refused")
	assert.Equal(t, schema.ExecPendingCancel, step(3, "snapshot", "CANCEL_QUEUED").ExecType, "changed while disconnected: news, the refused frame recorded nothing")
	assert.Equal(t, schema.ExecOrderStatus, step(4, "snapshot", "CANCEL_QUEUED").ExecType)
	assert.Equal(t, schema.ExecCanceled, step(4, "update", "CANCELLED").ExecType)
	assert.Equal(t, schema.ExecOrderStatus, step(5, "snapshot", "CANCELLED").ExecType, "an ended order restated")
}
