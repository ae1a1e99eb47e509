package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS41rvnormBybitFastFillAheadOfItsOrder: Bybit pushes execution.fast
// ahead of the other topics ("Fast execution stream significantly reduces
// data latency compared original execution stream"), so an order's first
// fill often comes before the order topic's first report of it. That fill
// is OrderTypeUnknown (the push names no type, the parser knows no order),
// and the type is on what follows: the order topic's report, the full
// execution topic's report of the same fill (its status report, the fill
// delivered once), and the order's next fast fill.
func TestS41rvnormBybitFastFillAheadOfItsOrder(t *testing.T) {
	t.Run("then the order topic", func(t *testing.T) {
		fast := bybitFast("execution.fast", "spot", "BTCUSDT", "", true)
		next := strings.Replace(fast, "3510f361-0add", "3510f361-0bdd", 1)
		_, got := feedFrames(t, NewBybit, nil, []string{fast,
			bybitOrderPush(bybitFastOrderID, "PartiallyFilled", "12.015", "3000", "0", "1000", "2000"), next}, schema.EventExecReport)
		require.Len(t, got, 3)
		assert.Equal(t, schema.ExecTrade, got[0].Exec.ExecType)
		assert.Equal(t, schema.OrderTypeUnknown, got[0].Exec.Type, "no report of the order yet")
		assert.Equal(t, schema.OrderTypeLimit, got[1].Exec.Type, "the order topic's report")
		assert.Equal(t, schema.ExecTrade, got[2].Exec.ExecType)
		assert.Equal(t, schema.OrderTypeLimit, got[2].Exec.Type, "the next fast fill: the order known")
	})
	t.Run("then the execution topic", func(t *testing.T) {
		fast := bybitFast("execution.fast", "linear", "ICPUSDT", "test-00001", false)
		full := `{"id":"1","topic":"execution","creationTime":1716800399340,"data":[{"category":"linear","symbol":"ICPUSDT","execFee":"0.5","execId":"3510f361-0add-5c7b-a2e7-9679810944fc","execPrice":"12.015","execQty":"1000","execType":"Trade","isMaker":false,"leavesQty":"2000","orderId":"443d63fa-b4c3-4297-b7b1-23bca88b04dc","orderLinkId":"test-00001","orderPrice":"12.015","orderQty":"3000","orderType":"Limit","side":"Sell","execTime":"1716800399334","seq":34771365464}]}`
		p, got := feedFrames(t, NewBybit, nil, []string{fast, full}, schema.EventExecReport)
		require.Len(t, got, 2)
		assert.Equal(t, schema.OrderTypeUnknown, got[0].Exec.Type)
		assert.Equal(t, schema.ExecOrderStatus, got[1].Exec.ExecType, "the fill delivered once")
		assert.Equal(t, schema.OrderTypeLimit, got[1].Exec.Type, "the full report's type")
		assert.Zero(t, p.Stats().Errors)
	})
}
