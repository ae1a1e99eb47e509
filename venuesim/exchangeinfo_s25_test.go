package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Binance spot "Exchange information": the answer lists the rate limits
// in force (rateLimits: REQUEST_WEIGHT per minute, ORDERS per 10 s and
// per day, RAW_REQUESTS per 5 minutes), exchangeFilters, and for each
// symbol its precisions and orderTypes — what a client sizes its
// throttle and its order types from ("Current API rate limits can be
// queried using the exchangeInfo request"). The simulator's had none of
// them: a client reading its limits there found nothing, and one
// checking a symbol's order types found none allowed.
func TestS25ExchangeInfoAsBinance(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 10})
	defer v.Close()
	m, err := httpGetJSON(v.RESTURL() + "/api/v3/exchangeInfo")
	require.NoError(t, err)
	rl, ok := m["rateLimits"].([]any)
	require.True(t, ok, "rateLimits in %v", m)
	var got []string
	for _, e := range rl {
		l := e.(map[string]any)
		got = append(got, l["rateLimitType"].(string)+" "+l["interval"].(string))
		switch l["rateLimitType"].(string) + " " + l["interval"].(string) {
		case "REQUEST_WEIGHT MINUTE":
			assert.Equal(t, float64(6000), l["limit"])
		case "ORDERS SECOND":
			assert.Equal(t, []any{float64(10), float64(50)}, []any{l["intervalNum"], l["limit"]})
		case "ORDERS DAY":
			assert.Equal(t, float64(160000), l["limit"])
		}
	}
	assert.ElementsMatch(t, []string{"REQUEST_WEIGHT MINUTE", "ORDERS SECOND", "ORDERS DAY", "RAW_REQUESTS MINUTE"}, got)
	assert.Equal(t, []any{}, m["exchangeFilters"])
	s := m["symbols"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{"LIMIT", "LIMIT_MAKER", "MARKET"}, s["orderTypes"])
	assert.Equal(t, float64(8), s["baseAssetPrecision"])
	assert.Equal(t, float64(8), s["quoteAssetPrecision"])
	assert.Equal(t, true, s["isSpotTradingAllowed"])
}
