package session

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCoinbaseURIHost: a REST base with its scheme's default port signs the
// uri claim without it, as Coinbase's documented form has none (a claim
// "GET api.coinbase.com:443/…" is not the request Coinbase checks); another
// port (a proxy, a test venue) stays.
func TestCoinbaseURIHost(t *testing.T) {
	for base, want := range map[string]string{
		"https://api.coinbase.com":      "api.coinbase.com",
		"https://api.coinbase.com:443":  "api.coinbase.com",
		"http://api.coinbase.com:80":    "api.coinbase.com",
		"https://api.coinbase.com:8443": "api.coinbase.com:8443",
		"http://127.0.0.1:41234":        "127.0.0.1:41234",
	} {
		u, err := url.Parse(base)
		require.NoError(t, err)
		assert.Equal(t, want, uriHost(u), base)
	}
}
