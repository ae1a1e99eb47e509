package normalize_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// TestS39rvnormCoinbaseBracketStop: a Coinbase Advanced Trade bracket
// order's configuration (trigger_bracket_gtc, trigger_bracket_gtd) names
// its stop "stop_trigger_price", not stop_limit's "stop_price" (Create
// Order, order_configuration). Since s39norm the order_type BRACKET is
// OrderTypeBracket, a limit order with its stop trigger; List Orders and
// Get Order read it with StopPrice zero, the stop lost. A negative one is
// refused as stop_price's is.
func TestS39rvnormCoinbaseBracketStop(t *testing.T) {
	syms := normalize.NewSymbols(normalize.CoinbaseSymbolRules())
	for _, kind := range []string{"trigger_bracket_gtc", "trigger_bracket_gtd"} {
		answer := `{"orders":[{"order_id":"0000-000000-000003","product_id":"BTC-USD","order_configuration":{"` + kind + `":` +
			`{"base_size":"0.5","limit_price":"110000","stop_trigger_price":"95000","end_time":"2021-06-30T00:00:00Z"}},"side":"SELL",` +
			`"status":"OPEN","time_in_force":"GOOD_UNTIL_CANCELLED","created_time":"2021-05-31T09:59:59Z","filled_size":"0",` +
			`"average_filled_price":"0","filled_value":"0","size_in_quote":false,"order_type":"BRACKET"}],"has_next":false}`
		os, _, err := normalize.ParseCoinbaseOrders([]byte(answer), syms, nil)
		require.NoError(t, err, kind)
		require.Len(t, os, 1, kind)
		assert.Equal(t, schema.OrderTypeBracket, os[0].Type, kind)
		assert.Equal(t, "110000", os[0].Price.String(), kind)
		assert.Equal(t, "95000", os[0].StopPrice.String(), kind+": stop_trigger_price is the bracket's stop")

		_, _, err = normalize.ParseCoinbaseOrders([]byte(strings.Replace(answer, `"95000"`, `"-95000"`, 1)), syms, nil)
		require.Error(t, err, kind+": a negative stop_trigger_price")
		assert.Contains(t, err.Error(), "stop_trigger_price", kind)
	}
}
