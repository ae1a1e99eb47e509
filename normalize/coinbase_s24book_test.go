package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Advanced Trade "Heartbeats": "Real-time server pings (every second) to
// keep all connections open … No products or authentication required";
// "Most channels close within 60-90 seconds if no updates are sent.
// Subscribe to heartbeats to keep all subscriptions open." Its subscribe
// request names no product: CoinbaseSubscribe builds it without any, as
// its doc lists "heartbeats"; a channel about products still needs one.
func TestCoinbaseSubscribeHeartbeatsWithoutProducts(t *testing.T) {
	b, err := CoinbaseSubscribe("heartbeats")
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"subscribe","channel":"heartbeats"}`, string(b))
	b, err = CoinbaseUnsubscribe("heartbeats")
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"unsubscribe","channel":"heartbeats"}`, string(b))
	_, err = CoinbaseSubscribe("level2")
	assert.ErrorIs(t, err, ErrBadValue, "a level2 subscription names its products")
	b, err = CoinbaseSubscribe("level2", "BTC-USD")
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"subscribe","channel":"level2","product_ids":["BTC-USD"]}`, string(b))
}

// Advanced Trade "WebSocket Overview": "You can also unsubscribe from a
// channel entirely by providing no product IDs."
func TestCoinbaseUnsubscribeWholeChannel(t *testing.T) {
	b, err := CoinbaseUnsubscribe("level2")
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"unsubscribe","channel":"level2"}`, string(b))
	b, err = CoinbaseUnsubscribe("level2", "BTC-USD")
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"unsubscribe","channel":"level2","product_ids":["BTC-USD"]}`, string(b))
	_, err = CoinbaseUnsubscribe("level2", `BTC"-USD`)
	assert.ErrorIs(t, err, ErrBadValue)
}
