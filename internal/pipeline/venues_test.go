package pipeline

import (
	"testing"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/recorder"
)

func TestSubscriptions(t *testing.T) {
	for _, tc := range []struct {
		venue, channel string
		symbols        []string
		want           string
	}{
		{"binance", "", []string{"BTC-USDT", "ethusdt"}, `"btcusdt@trade","ethusdt@trade"`},
		{"bybit", "orderbook.50", []string{"BTCUSDT"}, `"orderbook.50.BTCUSDT"`},
		{"kraken", "", []string{"BTC/USD"}, `"BTC/USD"`},
		{"kraken-v1", "book-1000", []string{"XBT/USD", "ETH/EUR"}, `{"event":"subscribe","pair":["XBT/USD","ETH/EUR"],"subscription":{"name":"book","depth":1000}}`},
		{"kraken-v1", "trade", []string{"XBT/USD"}, `{"event":"subscribe","pair":["XBT/USD"],"subscription":{"name":"trade"}}`},
		{"coinbase", "", []string{"BTC-USD"}, `"BTC-USD"`},
		{"okx", "", []string{"BTC-USDT"}, `"BTC-USDT"`},
	} {
		t.Run(tc.venue+"/"+tc.channel, func(t *testing.T) {
			v, err := Lookup(tc.venue)
			require.NoError(t, err)
			msg, err := v.Subscription(tc.channel, tc.symbols)
			require.NoError(t, err)
			var anyJSON any
			require.NoError(t, json.Unmarshal(msg, &anyJSON), "valid JSON")
			assert.Contains(t, string(msg), tc.want)
		})
	}
	_, err := Venues["kraken-v1"].Subscription("book-x", []string{"XBT/USD"})
	require.Error(t, err)
	_, err = Lookup("nowhere")
	require.ErrorContains(t, err, "binance, bybit, coinbase, kraken, kraken-v1, okx")
}

func TestVenueName(t *testing.T) {
	assert.Equal(t, "kraken-v1", VenueName(recorder.Line{Venue: "kraken", URL: "wss://ws.kraken.com"}))
	assert.Equal(t, "kraken", VenueName(recorder.Line{Venue: "kraken", URL: "wss://ws.kraken.com/v2"}))
	assert.Equal(t, "okx", VenueName(recorder.Line{Venue: "okx"}))
}
