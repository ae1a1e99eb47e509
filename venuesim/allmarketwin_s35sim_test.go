package venuesim_test

import (
	"testing"
	"time"

	jsonv2 "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Binance spot serves the rolling window tickers of every symbol as
// arrays too ("WebSocket Streams", "All Market Rolling Window Statistics
// Streams": !ticker_<window-size>@arr, window sizes 1h, 4h, 1d, "Update
// Speed: 1000ms", "only tickers that have changed will be present in the
// array"); normalize reads them, the simulator refused them as invalid
// streams, so nothing of ours was ever run against them. Subscribed, each
// is pushed on the second of the clock with the symbols that traded, each
// element its symbol's <symbol>@ticker_<window> payload (e "1hTicker",
// "4hTicker", "1dTicker") at the last trade price.
func TestS35simWindowArrays(t *testing.T) {
	t0 := s34simT0
	v, clk := s34simStart(t, "BTCUSDT", "ETHUSDT")
	c, ctx := s33simDial(t, v.CombinedURL())
	msgs := s34simReader(ctx, t, c)
	events := map[string]string{"!ticker_1h@arr": "1hTicker", "!ticker_4h@arr": "4hTicker", "!ticker_1d@arr": "1dTicker"}
	s34simSubscribe(ctx, t, c, msgs, "!ticker_1d@arr", "!ticker_1h@arr", "!ticker_4h@arr", "btcusdt@trade", "ethusdt@trade")
	last := map[string]string{}
	s34simTradedThenPaused(t, v, clk, msgs, last)
	clk.waitSleeping(t, time.Millisecond, 1)
	clk.Advance(t0.Add(time.Second).Sub(clk.Now()))
	got := map[string][]s34simTicker{}
	for len(got) < len(events) {
		m := s34simNext(t, msgs)
		if e := s34simDecode(t, m); e.Event == "trade" {
			last[e.Symbol] = e.Price
			continue
		}
		var arr []s34simTicker
		require.NoError(t, jsonv2.Unmarshal(m.Data, &arr), "%s: %s", m.Stream, m.Data)
		require.Contains(t, events, m.Stream)
		require.NotContains(t, got, m.Stream)
		got[m.Stream] = arr
	}
	for stream, event := range events {
		arr := got[stream]
		require.Len(t, arr, len(last), "%s: one element a symbol that traded", stream)
		for _, e := range arr {
			assert.Equal(t, event, e.Event, stream)
			assert.Equal(t, t0.Add(time.Second).UnixMilli(), e.Time, "%s: pushed at the second", stream)
			assert.Equal(t, last[e.Symbol], e.Last, "%s %s: the last trade", stream, e.Symbol)
		}
	}
}
