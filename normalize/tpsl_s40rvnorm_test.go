package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS40rvnormBybitTpslFillTypedAsItsOrder: the execution topic carries no
// trigger direction, so a spot TP/SL order's fill (stopOrderType
// tpslOrder) read by its word alone was a StopLoss while the order topic
// typed the same order TakeProfit (tpslKind): one order's Type flipped
// between its reports. The fill takes the type the order topic gave the
// order — working, or among the last that ended (its Filled report may
// come first) — and keeps the word's when the order is not known.
func TestS40rvnormBybitTpslFillTypedAsItsOrder(t *testing.T) {
	order := func(status string) string {
		msg := strings.Replace(s37normBybitOrder(status, "100", "1672364262474", "1672364262457"),
			`"orderType":"Limit"`, `"orderType":"Limit","stopOrderType":"tpslOrder","triggerPrice":"99","triggerDirection":1`, 1)
		return strings.Replace(msg, `"category":"linear"`, `"category":"spot"`, 1)
	}
	fill := func(order string) string {
		return `{"id":"2","topic":"execution","creationTime":1672364262480,"data":[{"category":"spot","symbol":"BTCUSDT","execFee":"0.01","execId":"e1",` +
			`"execPrice":"100","execQty":"0.5","execType":"Trade","execValue":"50","isMaker":false,"feeRate":"0.001","leavesQty":"0.5","orderId":"` + order +
			`","orderLinkId":"","orderPrice":"100","orderQty":"1","orderType":"Limit","stopOrderType":"tpslOrder","side":"Sell","execTime":"1672364262470"}]}`
	}
	for _, c := range []struct {
		name, status, order string
		want                schema.OrderType
	}{
		{"working", "New", "5cf98598", schema.OrderTypeTakeProfitLimit},
		{"ended first", "Filled", "5cf98598", schema.OrderTypeTakeProfitLimit},
		{"not known", "New", "other", schema.OrderTypeStopLossLimit}, // the word's, as before
	} {
		f := newConnFeed(t, schema.VenueBybit)
		evs, err := f.feed(1, order(c.status))
		require.NoError(t, err, c.name)
		require.Len(t, evs, 1, c.name)
		require.Equal(t, schema.OrderTypeTakeProfitLimit, evs[0].Exec.Type, c.name)
		evs, err = f.feed(1, fill(c.order))
		require.NoError(t, err, c.name)
		require.Len(t, evs, 1, c.name)
		assert.Equal(t, c.want, evs[0].Exec.Type, "the fill: "+c.name)
	}
}
