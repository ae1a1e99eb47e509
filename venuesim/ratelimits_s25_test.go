package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// rateLimitTypes are the rateLimitType of each entry of an answer's
// rateLimits, with the entry's interval.
func rateLimitTypes(t *testing.T, m map[string]any) []string {
	t.Helper()
	rl, ok := m["rateLimits"].([]any)
	if !ok {
		return nil
	}
	var out []string
	for _, e := range rl {
		l := e.(map[string]any)
		require.Equal(t, []string{"count", "interval", "intervalNum", "limit", "rateLimitType"}, sortedKeys(l))
		out = append(out, l["rateLimitType"].(string)+" "+l["interval"].(string))
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	for i := 1; i < len(k); i++ {
		for j := i; j > 0 && k[j] < k[j-1]; j-- {
			k[j], k[j-1] = k[j-1], k[j]
		}
	}
	return k
}

// Binance WebSocket API, "Rate limits": "rateLimits field is included with
// every response by default" — successes and errors alike, REQUEST_WEIGHT
// (per MINUTE, limit 6000, the count of the weight used this minute, IP
// wide) on every one, and on order placement the ORDERS limits (10
// SECOND, 1 DAY) too; returnRateLimits false, as a request parameter or
// in the connection's URL, leaves it out, and true in a request brings it
// back on such a connection. The simulator's answers had none: a client
// that reads its budget from them (as Binance advises, to back off before
// a 429) saw nothing and was never exercised.
func TestS25AnswersCarryRateLimits(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := apiConn{t, dial(t, v.APIURL())}
	weight := func(m map[string]any) float64 {
		t.Helper()
		rl := m["rateLimits"].([]any)
		for _, e := range rl {
			if l := e.(map[string]any); l["rateLimitType"] == "REQUEST_WEIGHT" {
				assert.Equal(t, "MINUTE", l["interval"])
				assert.Equal(t, float64(1), l["intervalNum"])
				assert.Equal(t, float64(6000), l["limit"])
				return l["count"].(float64)
			}
		}
		t.Fatalf("no REQUEST_WEIGHT in %v", m)
		return 0
	}

	write(t, a.c, `{"id":1,"method":"time"}`)
	m := a.response(1)
	assert.Equal(t, []string{"REQUEST_WEIGHT MINUTE"}, rateLimitTypes(t, m))
	w1 := weight(m)
	assert.GreaterOrEqual(t, w1, float64(3), "connecting (2) and time (1)")

	write(t, a.c, `{"id":2,"method":"ping"}`)
	assert.Equal(t, w1+1, weight(a.response(2)), "ping weighs 1")

	write(t, a.c, `{"id":3,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"1000.00","quantity":"0.01","timestamp":1}}`)
	m = a.response(3)
	require.Equal(t, float64(200), m["status"], "%v", m)
	assert.Equal(t, []string{"ORDERS SECOND", "ORDERS DAY", "REQUEST_WEIGHT MINUTE"}, rateLimitTypes(t, m))
	for _, e := range m["rateLimits"].([]any) {
		if l := e.(map[string]any); l["rateLimitType"] == "ORDERS" {
			assert.Equal(t, float64(1), l["count"], "one order placed: %v", l)
		}
	}

	write(t, a.c, `{"id":4,"method":"order.place","params":{"symbol":"NOPE","side":"BUY","type":"LIMIT","timestamp":1}}`)
	m = a.response(4)
	require.Equal(t, float64(400), m["status"])
	assert.NotEmpty(t, rateLimitTypes(t, m), "errors carry them too")

	write(t, a.c, `{"id":5,"method":"time","params":{"returnRateLimits":false}}`)
	assert.NotContains(t, a.response(5), "rateLimits")

	b := apiConn{t, dial(t, v.APIURL()+"?returnRateLimits=false")}
	write(t, b.c, `{"id":6,"method":"time"}`)
	assert.NotContains(t, b.response(6), "rateLimits")
	write(t, b.c, `{"id":7,"method":"time","params":{"returnRateLimits":true}}`)
	assert.Equal(t, []string{"REQUEST_WEIGHT MINUTE"}, rateLimitTypes(t, b.response(7)))
}

// withoutLimits checks that an answer carries rateLimits (as every
// WS-API answer does by default) and returns it without them, for tests
// of the rest of it.
func withoutLimits(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	assert.NotEmpty(t, rateLimitTypes(t, m), "rateLimits in %v", m)
	delete(m, "rateLimits")
	return m
}
