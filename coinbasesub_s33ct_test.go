package meltica_test

// Outside contract tests, round 8 (s33ct): Coinbase Advanced Trade's
// subscription rules, on a loopback peer (s30ctPeer).

import (
	"context"
	"sort"
	"testing"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// Coinbase Advanced Trade "WebSocket Overview": "You can subscribe to
// multiple products on one channel but only one channel per subscribe
// message" — a subscribe message names its channel in "channel", a
// string, with "product_ids" — and "Most channels close within 60-90
// seconds if no updates are sent. To keep subscriptions open, subscribe to
// the heartbeats channel" (session Config.BookMaxSilence's doc cites the
// same rule). A session of two products on market_trades, ticker and
// level2: one subscribe message per channel, each with both products, and
// one of the heartbeats channel, all on the connection's first messages.
func TestS33ctCoinbaseSubscribeOneChannelEach(t *testing.T) {
	peer := newS30ctPeer(t)
	peer.handle("/ws", func(*s30ctConn, string) []string { return nil })
	s, err := session.Start(context.Background(), session.Config{
		Venue:       schema.VenueCoinbase,
		Endpoints:   session.Endpoints{Stream: peer.ws("/ws")},
		Symbols:     []string{"BTC-USD", "ETH-USD"},
		Channels:    []string{"market_trades", "ticker", "level2"},
		NoClockSync: true,
		Client:      s30ctFast(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })

	var channels []string
	for len(channels) < 4 {
		msg := peer.await("/ws", func(string) bool { return true })
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(msg.text), &m), "%s", msg.text)
		require.Equal(t, "subscribe", m["type"], "%s", msg.text)
		ch, ok := m["channel"].(string)
		require.True(t, ok, "one channel, a string: %s", msg.text)
		assert.NotContains(t, m, "channels", "no list of channels: %s", msg.text)
		if ch != "heartbeats" {
			ids, _ := m["product_ids"].([]any)
			assert.ElementsMatch(t, []any{"BTC-USD", "ETH-USD"}, ids, "%s", msg.text)
		}
		channels = append(channels, ch)
	}
	sort.Strings(channels)
	assert.Equal(t, []string{"heartbeats", "level2", "market_trades", "ticker"}, channels)
}
