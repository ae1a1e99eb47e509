package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func s44cbFill(liquidity string) string {
	li := ""
	if liquidity != "" {
		li = `"liquidity_indicator":"` + liquidity + `",`
	}
	return `{"fills":[{"entry_id":"e1","trade_id":"t1","order_id":"o1","trade_time":"2021-05-31T09:59:59Z","trade_type":"FILL",` +
		`"price":"10000.00","size":"0.001","commission":"1.25","product_id":"BTC-USD",` + li + `"size_in_quote":false,"side":"BUY"}],"cursor":""}`
}

// Coinbase List Fills' liquidity_indicator is MAKER, TAKER or
// UNKNOWN_LIQUIDITY_INDICATOR (Advanced Trade API "List Fills"). The
// third was read as a taker (IsMaker false, nothing else said): a fee
// and rebate reconciliation believed it. Now it, or no indicator at all,
// is MakerUnknown (the schema has no liquidity state of its own:
// Execution.IsMaker is a bool), and so is a word outside the enum. Failed before: MakerUnknown did not exist; the word
// "SOMETIMES" was a taker.
func TestS44normCoinbaseUnknownLiquidityNotATaker(t *testing.T) {
	syms := NewSymbols(CoinbaseSymbolRules())
	for _, tc := range []struct {
		word           string
		maker, unknown bool
	}{
		{"MAKER", true, false},
		{"TAKER", false, false},
		{"UNKNOWN_LIQUIDITY_INDICATOR", false, true},
		{"", false, true},
	} {
		fills, _, err := ParseCoinbaseFills([]byte(s44cbFill(tc.word)), syms, nil)
		require.NoError(t, err, tc.word)
		require.Len(t, fills, 1, tc.word)
		assert.Equal(t, tc.maker, fills[0].IsMaker, tc.word)
		assert.Equal(t, tc.unknown, fills[0].MakerUnknown, tc.word)
	}
	// A word outside the enum: MakerUnknown, the page kept (session 45
	// changed this from a *ParseError: TestS45rvcoreCoinbaseFutureLiquidityWordKeepsPage).
	fills, _, err := ParseCoinbaseFills([]byte(s44cbFill("SOMETIMES")), syms, nil)
	require.NoError(t, err)
	require.Len(t, fills, 1)
	assert.False(t, fills[0].IsMaker)
	assert.True(t, fills[0].MakerUnknown)
}
