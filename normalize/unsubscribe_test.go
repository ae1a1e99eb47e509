package normalize

import (
	"testing"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/require"
)

// Each unsubscribe request is its subscribe request with the operation
// changed, and nothing else: a channel or symbol named "subscribe" stays.
func TestUnsubscribe(t *testing.T) {
	type req = map[string]any
	tests := []struct {
		name      string
		sub, un   func() ([]byte, error)
		opKey     string
		unchanged []string // members equal in both
	}{
		{"okx", func() ([]byte, error) { return OKXSubscribe("books", "BTC-USDT", "subscribe") },
			func() ([]byte, error) { return OKXUnsubscribe("books", "BTC-USDT", "subscribe") }, "op", []string{"args"}},
		{"bybit", func() ([]byte, error) { return BybitSubscribe(7, "orderbook.50.BTCUSDT") },
			func() ([]byte, error) { return BybitUnsubscribe(7, "orderbook.50.BTCUSDT") }, "op", []string{"args", "req_id"}},
		{"coinbase", func() ([]byte, error) { return CoinbaseSubscribe("level2", "BTC-USD") },
			func() ([]byte, error) { return CoinbaseUnsubscribe("level2", "BTC-USD") }, "type", []string{"channel", "product_ids"}},
		{"kraken", func() ([]byte, error) { return KrakenSubscribe(3, "book", "BTC/USD") },
			func() ([]byte, error) { return KrakenUnsubscribe(3, "book", "BTC/USD") }, "method", []string{"params", "req_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.sub()
			require.NoError(t, err)
			u, err := tt.un()
			require.NoError(t, err)
			var sm, um req
			require.NoError(t, json.Unmarshal(s, &sm))
			require.NoError(t, json.Unmarshal(u, &um))
			require.Equal(t, "subscribe", sm[tt.opKey])
			require.Equal(t, "unsubscribe", um[tt.opKey])
			for _, k := range tt.unchanged {
				require.Equal(t, sm[k], um[k], k)
			}
			require.Len(t, um, len(sm))
		})
	}
	_, err := OKXUnsubscribe("books")
	require.ErrorIs(t, err, ErrBadValue)
}
