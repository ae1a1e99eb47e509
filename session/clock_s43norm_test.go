package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The venues' server-time parsers decode through safejson now (they were
// guarded only by their caller, parseServerTime): a malformed answer is an
// error from the parser itself, and a good one after it still reads.
func TestS43normServerTimeMalformed(t *testing.T) {
	good := map[string]string{
		"binance":  `{"serverTime":1499827319559}`,
		"okx":      `{"code":"0","msg":"","data":[{"ts":"1597026383085"}]}`,
		"bybit":    `{"retCode":0,"result":{"timeNano":"1688639403423213947"}}`,
		"kraken":   `{"error":[],"result":{"unixtime":1688669448}}`,
		"coinbase": `{"epochMillis":"1688669448123"}`,
	}
	require.Len(t, venueTimes, len(good))
	for v, vt := range venueTimes {
		for _, bad := range []string{``, `[`, `{"serverTime":`, `{"data":[{"ts":`, `{"result":{"timeNano":`, `{"result":{"unixtime":`, `{"epochMillis":`, "\xff"} {
			var err error
			require.NotPanics(t, func() { _, err = vt.parse([]byte(bad)) }, "%s %q", v, bad)
			assert.Error(t, err, "%s %q", v, bad)
		}
		ts, err := vt.parse([]byte(good[string(v)]))
		require.NoError(t, err, v)
		assert.False(t, ts.IsZero(), v)
		assert.GreaterOrEqual(t, ts.Year(), 2017, v)
	}
}
