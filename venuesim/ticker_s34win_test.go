package venuesim_test

import (
	"testing"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Binance serves each symbol's statistics over rolling windows (spot
// "WebSocket Streams", "Individual Symbol Rolling Window Statistics
// Streams": <symbol>@ticker_<window_size>, window sizes 1h, 4h, 1d; event
// type "1hTicker", "4hTicker", "1dTicker"; members e E s p P o h l c w v q
// O C F L n — no last quantity, no book top). The simulator refused them
// as invalid streams, the whole SUBSCRIBE with them. Each carries the same
// statistics as the 24 h ticker after the same trade (the venue is younger
// than every window).
func TestS34winRollingWindowTickers(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000, PingInterval: -1})
	defer v.Close()
	c, ctx := s33simDial(t, v.CombinedURL())
	require.NoError(t, c.Write(ctx, websocket.MessageText,
		[]byte(`{"method":"SUBSCRIBE","params":["btcusdt@ticker","btcusdt@ticker_1h","btcusdt@ticker_4h","btcusdt@ticker_1d"],"id":1}`)))
	type msg struct {
		Stream string         `json:"stream"`
		Data   map[string]any `json:"data"`
		Error  any            `json:"error"`
	}
	read := func() msg {
		_, b, err := c.Read(ctx)
		require.NoError(t, err)
		var m msg
		require.NoError(t, json.Unmarshal(b, &m), "%s", b)
		return m
	}
	require.Nil(t, read().Error, "the SUBSCRIBE of the rolling window tickers refused")
	events := map[string]string{"btcusdt@ticker": "24hrTicker", "btcusdt@ticker_1h": "1hTicker", "btcusdt@ticker_4h": "4hTicker", "btcusdt@ticker_1d": "1dTicker"}
	seen := map[string]int{}
	var day map[string]any // the last 24 h ticker
	// One a second each (s36: "Update Speed: 1000ms").
	for len(seen) < 4 || seen["btcusdt@ticker_1h"] < 3 || seen["btcusdt@ticker_1d"] < 3 {
		m := read()
		want, ok := events[m.Stream]
		require.True(t, ok, "unexpected %+v", m)
		d := m.Data
		require.Equal(t, want, d["e"], m.Stream)
		seen[m.Stream]++
		if m.Stream == "btcusdt@ticker" {
			day = d
			continue
		}
		for _, k := range []string{"E", "s", "p", "P", "o", "h", "l", "c", "w", "v", "q", "O", "C", "F", "L", "n"} {
			assert.Contains(t, d, k, "%s: member %q", m.Stream, k)
		}
		for _, k := range []string{"Q", "b", "B", "a", "A", "x"} {
			assert.NotContains(t, d, k, "%s: the rolling window ticker has no %q", m.Stream, k)
		}
		if day != nil && day["L"] == d["L"] { // after the same trade: the same statistics
			for _, k := range []string{"c", "o", "h", "l", "v", "q", "w", "p", "P", "n", "F"} {
				assert.Equal(t, day[k], d[k], "%s: %q differs from the 24 h ticker's after the same trade", m.Stream, k)
			}
		}
	}
}
