package venuesim_test

import (
	"testing"
	"time"

	"github.com/coder/websocket"
	jsonv2 "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// s34simTicker is an all-market array's element: the fields the two
// arrays share.
type s34simTicker struct {
	Event  string `json:"e"`
	Time   int64  `json:"E"`
	Symbol string `json:"s"`
	Last   string `json:"c"`
}

// Binance spot lists two all-market ticker arrays ("WebSocket Streams":
// "All Market Mini Tickers Stream", !miniTicker@arr, and "All Market
// Tickers Stream", !ticker@arr, deprecated by the spot Changelog of
// 2025-11-14 and still served; no all-market book ticker, !bookTicker, is
// listed any more), "Update Speed: 1000ms", "only tickers
// that have changed will be present in the array". The simulator refused
// both names as invalid streams. Subscribed, each is pushed on the
// second of the clock with the symbols that traded since the last push,
// each its own stream's payload ("24hrMiniTicker", "24hrTicker") at its
// last trade price; a second with no trade pushes nothing.
func TestS34simAllMarketArrays(t *testing.T) {
	t0 := s34simT0
	v, clk := s34simStart(t, "BTCUSDT", "ETHUSDT")
	c, ctx := s33simDial(t, v.CombinedURL())
	msgs := s34simReader(ctx, t, c)
	// The all-market book ticker is not in the list (retired): refused.
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"method":"SUBSCRIBE","params":["!bookTicker"],"id":0}`)))
	require.JSONEq(t, `{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":0}`, string(s34simNext(t, msgs).Raw))
	s34simSubscribe(ctx, t, c, msgs, "!miniTicker@arr", "!ticker@arr", "btcusdt@trade", "ethusdt@trade")
	last := map[string]string{} // symbol → last trade price
	s34simTradedThenPaused(t, v, clk, msgs, last)
	// tick moves the clock to t0+d, the generator armed, and returns the
	// two arrays it pushes (the trades queued before Pause are noted).
	tick := func(d time.Duration) map[string][]s34simTicker {
		t.Helper()
		clk.waitSleeping(t, time.Millisecond, 1)
		clk.Advance(t0.Add(d).Sub(clk.Now()))
		got := map[string][]s34simTicker{}
		for len(got) < 2 {
			m := s34simNext(t, msgs)
			if e := s34simDecode(t, m); e.Event == "trade" {
				last[e.Symbol] = e.Price
				continue
			}
			var arr []s34simTicker
			// v2: names matched case-sensitively (c, the last price; C,
			// the close time).
			require.NoError(t, jsonv2.Unmarshal(m.Data, &arr), "%s: %s", m.Stream, m.Data)
			require.NotContains(t, got, m.Stream)
			got[m.Stream] = arr
		}
		return got
	}
	check := func(got map[string][]s34simTicker, d time.Duration) {
		t.Helper()
		for stream, event := range map[string]string{"!miniTicker@arr": "24hrMiniTicker", "!ticker@arr": "24hrTicker"} {
			arr := got[stream]
			require.Len(t, arr, len(last), "%s: one element a symbol that traded", stream)
			for _, e := range arr {
				assert.Equal(t, event, e.Event, stream)
				assert.Equal(t, t0.Add(d).UnixMilli(), e.Time, "%s: pushed at the second", stream)
				assert.Equal(t, last[e.Symbol], e.Last, "%s %s: the last trade", stream, e.Symbol)
			}
		}
	}
	check(tick(time.Second), time.Second)
	// A second with no trade pushes nothing: the next push read is the
	// one after trades resume.
	clk.waitSleeping(t, time.Millisecond, 1)
	clk.Advance(t0.Add(2 * time.Second).Sub(clk.Now()))
	v.Pause(false)
	clear(last)
	s34simTradedThenPaused(t, v, clk, msgs, last)
	check(tick(3*time.Second), 3*time.Second)
}
