package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS36normKrakenWords: every exec_type and order_status of Kraken's v2
// executions channel (Kraken Spot WebSocket API v2, "Executions") that is
// no trade, paired as the doc's words pair them, maps to its schema value
// and claims no fill (a trade: TestAdv3FillNotDeliveredTwice and others).
func TestS36normKrakenWords(t *testing.T) {
	for _, tc := range []struct {
		execType, status string
		exec             schema.ExecType
		st               schema.OrderStatus
	}{
		{"pending_new", "pending_new", schema.ExecPendingNew, schema.StatusPendingNew}, // "acknowledges a validated order before it becomes live"
		{"new", "new", schema.ExecNew, schema.StatusNew},
		{"filled", "filled", schema.ExecOrderStatus, schema.StatusFilled}, // "A separate exec_type: filled update reports completion"
		{"canceled", "canceled", schema.ExecCanceled, schema.StatusCanceled},
		{"expired", "expired", schema.ExecExpired, schema.StatusExpired},
		{"amended", "new", schema.ExecAmendment, schema.StatusNew},
		{"restated", "new", schema.ExecRestated, schema.StatusNew},
		{"iceberg_refill", "partially_filled", schema.ExecRestated, schema.StatusPartiallyFilled},
		{"status", "partially_filled", schema.ExecOrderStatus, schema.StatusPartiallyFilled},
	} {
		c := newConnFeed(t, kr)
		evs, err := c.feed(1, krakenExecPush(tc.execType, tc.status))
		require.NoError(t, err, tc.execType)
		require.Len(t, evs, 1, tc.execType)
		x := evs[0].Exec
		assert.Equal(t, tc.exec, x.ExecType, tc.execType)
		assert.Equal(t, tc.st, x.Status, tc.execType)
		assert.True(t, x.LastFillQty.IsZero(), tc.execType)
	}
	requireRefused(t, kr, krakenExecPush("new", "suspended"), "order_status", ErrUnknownStatus)
	requireRefused(t, kr, krakenExecPush("teleported", "new"), "exec_type", ErrUnknownExecType)
}

// TestS36normCoinbaseWords: every status of the Advanced Trade user
// channel (PENDING, QUEUED, OPEN, EDIT_QUEUED, FILLED, CANCEL_QUEUED,
// CANCELLED, EXPIRED, FAILED) in a snapshot, where it states where the
// order stands and claims no fill; a word not documented for the channel
// (UNKNOWN_ORDER_STATUS, the REST enum's zero value) is refused typed.
func TestS36normCoinbaseWords(t *testing.T) {
	for _, tc := range []struct {
		status string
		st     schema.OrderStatus
	}{
		{"PENDING", schema.StatusPendingNew}, {"QUEUED", schema.StatusPendingNew},
		{"OPEN", schema.StatusNew}, {"EDIT_QUEUED", schema.StatusNew},
		{"FILLED", schema.StatusFilled}, {"CANCEL_QUEUED", schema.StatusPendingCancel},
		{"CANCELLED", schema.StatusCanceled}, {"EXPIRED", schema.StatusExpired}, {"FAILED", schema.StatusRejected},
	} {
		cum, leaves := "0", "1"
		if tc.status == "FILLED" {
			cum, leaves = "1", "0"
		}
		c := newConnFeed(t, schema.VenueCoinbase)
		evs, err := c.feed(1, string(coinbaseUser("snapshot", tc.status, cum, leaves, "0", "0")))
		require.NoError(t, err, tc.status)
		require.Len(t, evs, 1, tc.status)
		x := evs[0].Exec
		assert.Equal(t, tc.st, x.Status, tc.status)
		assert.NotEqual(t, schema.ExecUnknown, x.ExecType, tc.status)
		assert.NotEqual(t, schema.ExecTrade, x.ExecType, "a snapshot claims no fill: %s", tc.status)
	}
	requireRefused(t, schema.VenueCoinbase, string(coinbaseUser("update", "UNKNOWN_ORDER_STATUS", "0", "1", "0", "0")), "status", ErrUnknownStatus)
}

// TestS36normOKXWords: every state of OKX's orders channel (OKX v5,
// "Order channel": live, partially_filled, filled, canceled, mmp_canceled)
// in a push without a fill, and every amendResult ("-1" failed, "0"
// succeeded, "1" accepted then failed and the order canceled by the
// system, "2" amended by the system), maps to its schema value and claims
// no fill; an undocumented state is refused typed.
func TestS36normOKXWords(t *testing.T) {
	for _, tc := range []struct {
		state, amend string
		exec         schema.ExecType
		st           schema.OrderStatus
	}{
		{"live", "", schema.ExecNew, schema.StatusNew},
		{"partially_filled", "", schema.ExecOrderStatus, schema.StatusPartiallyFilled},
		{"filled", "", schema.ExecOrderStatus, schema.StatusFilled},
		{"canceled", "", schema.ExecCanceled, schema.StatusCanceled},
		{"mmp_canceled", "", schema.ExecCanceled, schema.StatusCanceled},
		{"live", "0", schema.ExecAmendment, schema.StatusNew},
		{"live", "2", schema.ExecAmendment, schema.StatusNew},
		{"live", "-1", schema.ExecOrderStatus, schema.StatusNew},
		{"canceled", "1", schema.ExecCanceled, schema.StatusCanceled},
	} {
		c := newConnFeed(t, ox)
		evs, err := c.feed(1, okxOrderPush(tc.state, "0", "0", tc.amend))
		require.NoError(t, err, tc)
		require.Len(t, evs, 1, tc)
		x := evs[0].Exec
		assert.Equal(t, tc.exec, x.ExecType, "%s amendResult %q", tc.state, tc.amend)
		assert.Equal(t, tc.st, x.Status, "%s amendResult %q", tc.state, tc.amend)
		assert.True(t, x.LastFillQty.IsZero())
	}
	requireRefused(t, ox, okxOrderPush("partially_canceled", "0", "0", ""), "state", ErrUnknownStatus)
}
