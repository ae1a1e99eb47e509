package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS41normBybitFastFillTypedAsItsOrder: a Fast Execution push (Bybit
// v5 "Fast Execution": category, symbol, orderId, isMaker, orderLinkId,
// execId, execPrice, execQty, side, execTime, seq — no orderType, no
// stopOrderType) was typed by the words it lacks: OrderTypeUnknown, while
// the order topic had typed the same order Limit, or TakeProfitLimit. The
// fill takes the type the order topic gave its order, working or among the
// last that ended (its Filled report may come first, with or without an
// orderLinkId), and stays Unknown when the order is not known.
func TestS41normBybitFastFillTypedAsItsOrder(t *testing.T) {
	tpsl := func(push string) string { // a spot TP/SL sell, triggered by a rise: a take-profit (tpslKind)
		push = strings.Replace(push, `"orderType":"Limit"`, `"orderType":"Limit","stopOrderType":"tpslOrder","triggerDirection":1`, 1)
		return strings.Replace(push, `"side":"Buy"`, `"side":"Sell"`, 1)
	}
	noLink := func(push string) string { return strings.Replace(push, `"orderLinkId":"x1"`, `"orderLinkId":""`, 1) }
	working := bybitOrderPush(bybitFastOrderID, "New", "12.015", "3000", "0", "0", "3000")
	filled := bybitOrderPush(bybitFastOrderID, "Filled", "12.015", "1000", "0", "1000", "0")
	fast := bybitFast("execution.fast", "spot", "BTCUSDT", "", true)
	for _, c := range []struct {
		name  string
		order string
		want  schema.OrderType
	}{
		{"limit working", working, schema.OrderTypeLimit},
		{"limit filled first", filled, schema.OrderTypeLimit},
		{"limit filled first, no orderLinkId", noLink(filled), schema.OrderTypeLimit},
		{"tpsl working", tpsl(working), schema.OrderTypeTakeProfitLimit},
		{"tpsl filled first", tpsl(filled), schema.OrderTypeTakeProfitLimit},
		{"not known", "", schema.OrderTypeUnknown},
	} {
		t.Run(c.name, func(t *testing.T) {
			frames := []string{fast}
			if c.order != "" {
				frames = []string{c.order, fast}
			}
			p, got := feedFrames(t, NewBybit, nil, frames, schema.EventExecReport)
			require.Len(t, got, len(frames))
			x := got[len(got)-1].Exec
			require.Equal(t, schema.ExecTrade, x.ExecType)
			if c.order != "" {
				require.Equal(t, c.want, got[0].Exec.Type, "the order topic's type")
			}
			assert.Equal(t, c.want, x.Type, "the fast fill's type")
			assert.Zero(t, p.Stats().Errors)
		})
	}
}
