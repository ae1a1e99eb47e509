package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestS25BybitRateLimitResetTime: Bybit's trade WebSocket refuses a
// request over its rate limit with retCode 10006 ("Too many visits") and
// says in the answer's header when the limit's window resets
// (X-Bapi-Limit-Reset-Timestamp, Unix ms: Bybit v5 "Rate Limit Rules",
// "WebSocket Trade Guideline" response header). The answer carries it as
// RetryAfter; an accepted answer, or a refusal for another cause, does
// not.
func TestS25BybitRateLimitResetTime(t *testing.T) {
	var r BybitAnswers
	var a OrderAnswer
	ok, err := r.Read([]byte(`{"reqId":"7","retCode":10006,"retMsg":"Too many visits. Exceeded the API Rate Limit.","op":"order.create","data":{},`+
		`"retExtInfo":{},"header":{"X-Bapi-Limit":"10","X-Bapi-Limit-Status":"0","X-Bapi-Limit-Reset-Timestamp":"1711001596000","Traceid":"x","Timenow":"1711001595209"},"connId":"c"}`), &a)
	require.True(t, ok)
	require.NoError(t, err)
	assert.False(t, a.Accepted)
	assert.Equal(t, int64(10006), a.Code)
	assert.Equal(t, int64(1711001596000)*1_000_000, a.RetryAfter)

	ok, err = r.Read([]byte(`{"reqId":"8","retCode":10001,"retMsg":"params error","op":"order.create","data":{},`+
		`"header":{"X-Bapi-Limit-Reset-Timestamp":"1711001596000","Timenow":"1711001595209"}}`), &a)
	require.True(t, ok)
	require.NoError(t, err)
	assert.Zero(t, a.RetryAfter, "not a rate limit")
}
