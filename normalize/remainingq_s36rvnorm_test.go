package normalize_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// TestS36rvnormQueriedEndedOrderRemaining: an order query's ended order
// has nothing open (FIX LeavesQty 0 once the order is done), as its
// streamed report (TestS36rvnormRemainingOnEndedOrders); the session's
// reconciled end report is built from it. Binance's and Bybit's canceled
// orders carried origQty − executedQty.
func TestS36rvnormQueriedEndedOrderRemaining(t *testing.T) {
	bn, err := normalize.ParseBinanceOrders([]byte(strings.Replace(openOrdersAnswer, `"PARTIALLY_FILLED"`, `"CANCELED"`, 1)), normalize.NewBinanceSymbols(), nil)
	require.NoError(t, err)
	require.Len(t, bn, 1)
	require.Equal(t, schema.StatusCanceled, bn[0].Status)
	assert.True(t, bn[0].RemainingQty.IsZero(), "Binance: %s", bn[0].RemainingQty)

	by, _, err := normalize.ParseBybitOrders([]byte(strings.Replace(bybitOrdersAnswer, `"PartiallyFilled"`, `"Cancelled"`, 1)), normalize.NewSymbols(normalize.BybitSymbolRules()), nil)
	require.NoError(t, err)
	require.Len(t, by, 1)
	require.Equal(t, schema.StatusCanceled, by[0].Status)
	assert.True(t, by[0].RemainingQty.IsZero(), "Bybit: %s", by[0].RemainingQty)

	open, _, err := normalize.ParseBybitOrders([]byte(bybitOrdersAnswer), normalize.NewSymbols(normalize.BybitSymbolRules()), nil)
	require.NoError(t, err)
	require.Len(t, open, 1)
	assert.Equal(t, "0.06", open[0].RemainingQty.String(), "a working order keeps what is open")
}
