package session

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// The order types the schema gained after TakeProfitLimit are not all
// conditional: a liquidation, a bracket (a limit order resting at once) and
// a settle-position order wait for no trigger, so they count as no algo
// order against Binance's MAX_NUM_ALGO_ORDERS ("STOP_LOSS, STOP_LOSS_LIMIT,
// TAKE_PROFIT, and TAKE_PROFIT_LIMIT") and a query's order of such a type
// is not told apart from a plain request as a conditional one. The session
// asked `typ >= OrderTypeStopLoss`, which took them for algo orders.
func TestS39leadConditionalIsTheSchemasRule(t *testing.T) {
	for typ := schema.OrderTypeMarket; typ <= schema.OrderTypeSettlePosition; typ++ {
		var tr tracked
		tr.setType(typ)
		require.Equal(t, typ.Conditional(), tr.algo, "tracked algo of %v", typ)
	}
	one := schema.MustParseDecimal("1")
	req := &schema.OrderRequest{Symbol: "BTCUSDT", Side: schema.SideBuy, Type: schema.OrderTypeLimit, Qty: one, Price: one}
	q := &normalize.QueryOrder{Symbol: "BTCUSDT", Execution: schema.Execution{Side: schema.SideBuy, Type: schema.OrderTypeBracket, Qty: one, Price: one}}
	require.True(t, sameOrder(q, req), "a bracket rests as a limit order: no conditional one")
	q.Type = schema.OrderTypeTrailingStopLimit
	require.False(t, sameOrder(q, req), "a trailing stop-limit is conditional, the request not")
}
