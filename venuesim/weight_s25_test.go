package venuesim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Binance WebSocket API, "IP limits": "Rate-limited responses include a
// retryAfter field, indicating when you can retry the request" (in
// error.data, with serverTime, both Unix ms); the simulator's 429 had
// neither, so a client's back-off on retryAfter was never exercised. And
// openOrders.status weighs 6 with a symbol, 80 without ("Query current
// open orders"), which the simulator counted as 6.
func TestS25RateLimitedAnswerSaysWhenToRetry(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	v.FailQueries(1)
	before := time.Now().UnixMilli()
	write(t, a.c, `{"id":2,"method":"openOrders.status","params":{"symbol":"BTCUSDT","timestamp":1}}`)
	m := a.response(2)
	require.Equal(t, float64(429), m["status"])
	e := m["error"].(map[string]any)
	assert.Equal(t, float64(-1003), e["code"])
	data, ok := e["data"].(map[string]any)
	require.True(t, ok, "error.data in %v", e)
	assert.GreaterOrEqual(t, data["serverTime"], float64(before))
	assert.Greater(t, data["retryAfter"], data["serverTime"], "retryAfter is later")

	weight := func(id float64) float64 {
		for _, l := range a.response(id)["rateLimits"].([]any) {
			if l := l.(map[string]any); l["rateLimitType"] == "REQUEST_WEIGHT" {
				return l["count"].(float64)
			}
		}
		return 0
	}
	write(t, a.c, `{"id":3,"method":"ping"}`)
	w := weight(3)
	write(t, a.c, `{"id":4,"method":"openOrders.status","params":{"timestamp":1}}`)
	got := weight(4)
	if got < w { // a new minute began between the two
		return
	}
	assert.Equal(t, w+80, got, "openOrders.status of every symbol weighs 80")
}
