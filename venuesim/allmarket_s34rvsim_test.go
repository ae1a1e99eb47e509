package venuesim_test

import (
	"testing"

	"github.com/coder/websocket"
	jsonv2 "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// On a raw stream an all-market array is the whole message (spot
// "WebSocket Streams", "All Market Mini Tickers Stream": "Payload: [ {…}
// ]"), on a combined one the "data" of {"stream","data"}.
func TestS34rvsimAllMarketArrayRaw(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Rate: 400, PingInterval: -1})
	t.Cleanup(v.Close)
	c, ctx := s33simDial(t, v.StreamURL("!miniTicker@arr"))
	_, raw, err := c.Read(ctx)
	require.NoError(t, err)
	var arr []s34simTicker
	require.NoError(t, jsonv2.Unmarshal(raw, &arr), "raw: the array, no wrapper: %s", raw)
	require.NotEmpty(t, arr)
	for _, e := range arr {
		assert.Equal(t, "24hrMiniTicker", e.Event)
		assert.Contains(t, []string{"BTCUSDT", "ETHUSDT"}, e.Symbol)
	}
}

// An all-market array unsubscribed is sent no more: after the
// UNSUBSCRIBE's answer, two pushes of the 1s klines (the arrays go out on
// the same second's tick, after the candles) come with no array between,
// though the market trades.
func TestS34rvsimAllMarketArrayUnsubscribed(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 400, PingInterval: -1})
	t.Cleanup(v.Close)
	c, ctx := s33simDial(t, v.CombinedURL())
	msgs := s34simReader(ctx, t, c)
	require.NoError(t, c.Write(ctx, websocket.MessageText,
		[]byte(`{"method":"SUBSCRIBE","params":["!miniTicker@arr","!ticker@arr","btcusdt@kline_1s","btcusdt@trade"],"id":1}`)))
	require.JSONEq(t, `{"result":null,"id":1}`, string(s34simNext(t, msgs).Raw), "subscribed")
	arrays := map[string]bool{}
	for len(arrays) < 2 {
		m := s34simNext(t, msgs)
		if len(m.Data) > 0 && m.Data[0] == '[' {
			arrays[m.Stream] = true
		}
	}
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"method":"UNSUBSCRIBE","params":["!miniTicker@arr","!ticker@arr"],"id":5}`)))
	for {
		m := s34simNext(t, msgs)
		if m.Stream == "" {
			require.JSONEq(t, `{"result":null,"id":5}`, string(m.Raw))
			break
		}
	}
	klines, trades := 0, 0
	for klines < 2 {
		m := s34simNext(t, msgs)
		require.False(t, len(m.Data) > 0 && m.Data[0] == '[', "an array after its UNSUBSCRIBE: %s", m.Raw)
		switch s34simDecode(t, m).Event {
		case "kline":
			klines++
		case "trade":
			if klines == 1 {
				trades++
			}
		}
	}
	assert.Positive(t, trades, "the market traded in the second watched")
}
