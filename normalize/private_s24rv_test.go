package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS24rvOKXAmendResultsAfterFill: every push of OKX's orders channel
// with an amendResult is the result of one amend-order request (OKX v5
// "Order channel": amendResult "-1" failure, "0" success; reqId "Client
// Request ID as assigned by the client for order amendment"; uTime the
// push's update time), and on a partly filled order each restates the
// last fill. A second failed amendment with the same reason as the first
// ("px too far" twice), and an amendment that changes neither px nor sz
// (amend-order's attachAlgoOrds: a new take-profit or stop-loss trigger
// price) are results the host waits for, not repeats; the same push
// again (the same uTime, on a second connection) is.
func TestS24rvOKXAmendResultsAfterFill(t *testing.T) {
	c := newConnFeed(t, ox)
	fill := okxOrderPush("partially_filled", "0.4", "-0.08", "")
	evs, err := c.feed(1, fill)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	push := func(amend, uTime string) string {
		return strings.Replace(strings.Replace(fill, `"amendResult":""`, `"amendResult":"`+amend+`"`, 1), `"uTime":"1646637216768"`, `"uTime":"`+uTime+`"`, 1)
	}
	one := func(conn uint64, msg string) schema.Execution {
		t.Helper()
		evs, err := c.feed(conn, msg)
		require.NoError(t, err)
		require.Len(t, evs, 1, "delivered")
		x := evs[0].Exec
		require.True(t, x.LastFillQty.IsZero() && x.TradeID.IsZero(), "the fill is not counted twice")
		return x
	}
	x := one(1, push("-1", "1646637217000"))
	require.Equal(t, "px too far", x.RejectReason)
	x = one(1, push("-1", "1646637218000"))
	require.Equal(t, "px too far", x.RejectReason, "a second failed amendment, the same reason")
	require.NotEqual(t, schema.ExecAmendment, x.ExecType)

	x = one(1, push("0", "1646637219000"))
	require.Equal(t, schema.ExecAmendment, x.ExecType, "an amendment of the attached TP/SL: px and sz unchanged")
	require.Equal(t, schema.StatusPartiallyFilled, x.Status)

	evs, err = c.feed(2, push("0", "1646637219000"))
	require.NoError(t, err)
	require.Empty(t, evs, "the same push on a second connection: a repeat")
	evs, err = c.feed(2, push("-1", "1646637218000"))
	require.NoError(t, err)
	require.Empty(t, evs, "an older push restated: a repeat")
}
