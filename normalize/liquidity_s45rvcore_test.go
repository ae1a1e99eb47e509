package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A List Fills page whose one fill names a liquidity_indicator outside
// the enum Coinbase lists today (MAKER, TAKER, UNKNOWN_LIQUIDITY_INDICATOR)
// is still a page of fills whose price, size, fee and ids are all known:
// the word says only that Coinbase did not tell maker or taker in a way we
// know, which MakerUnknown already says. Refused, the whole page failed —
// every other fill and the cursor to the next page lost — so a host
// reconciling its fills stalled on a word that changes none of its money
// fields (DESIGN.md contract 6: bad input costs nothing else). Now such a
// fill is MakerUnknown, never guessed, and the page is kept. Failed before:
// a *ParseError (liquidity_indicator), no fills, no cursor.
func TestS45rvcoreCoinbaseFutureLiquidityWordKeepsPage(t *testing.T) {
	syms := NewSymbols(CoinbaseSymbolRules())
	page := `{"fills":[` +
		`{"entry_id":"e1","trade_id":"t1","order_id":"o1","trade_time":"2021-05-31T09:59:59Z","trade_type":"FILL","price":"10000.00","size":"0.001","commission":"1.25","product_id":"BTC-USD","liquidity_indicator":"MAKER","size_in_quote":false,"side":"BUY"},` +
		`{"entry_id":"e2","trade_id":"t2","order_id":"o1","trade_time":"2021-05-31T10:00:00Z","trade_type":"FILL","price":"10001.00","size":"0.002","commission":"2.5","product_id":"BTC-USD","liquidity_indicator":"AUCTION_MATCH","size_in_quote":false,"side":"BUY"},` +
		`{"entry_id":"e3","trade_id":"t3","order_id":"o1","trade_time":"2021-05-31T10:00:01Z","trade_type":"FILL","price":"10002.00","size":"0.003","commission":"3.75","product_id":"BTC-USD","liquidity_indicator":"TAKER","size_in_quote":false,"side":"BUY"}` +
		`],"cursor":"next-page"}`
	fills, cursor, err := ParseCoinbaseFills([]byte(page), syms, nil)
	require.NoError(t, err)
	require.Equal(t, "next-page", cursor)
	require.Len(t, fills, 3)
	assert.True(t, fills[0].IsMaker)
	assert.False(t, fills[0].MakerUnknown)
	assert.False(t, fills[1].IsMaker, "a word we do not know is no maker")
	assert.True(t, fills[1].MakerUnknown, "nor a taker: unknown")
	assert.Equal(t, "t2", fills[1].TradeID.String())
	assert.Equal(t, "2.5", fills[1].Fee.String())
	assert.False(t, fills[2].IsMaker)
	assert.False(t, fills[2].MakerUnknown)
}
