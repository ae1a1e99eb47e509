package venuesim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/venuesim"
)

// Binance spot "WebSocket Streams": "Individual Symbol Ticker Streams",
// "Individual Symbol Mini Ticker Stream" and "Individual Symbol Rolling
// Window Statistics Streams" give "Update Speed: 1000ms". venuesim pushed
// them with every trade (hundreds a second at a busy symbol): a bot that
// keeps up on venuesim takes far more than Binance sends, and one that
// reads a ticker as "a trade happened" passed on venuesim only. They go
// out on the Clock's 1000 ms cadence now, as the all-market arrays do,
// E the tick, for a symbol that traded since the last.
func TestS36simSymbolTickersEvery1000ms(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 1000, Clock: clk, Symbols: []string{"BTCUSDT"}, PingInterval: -1})
	defer v.Close()
	c := dial(t, v.StreamURL("btcusdt@ticker", "btcusdt@miniTicker", "btcusdt@ticker_1h"))
	start := s29Epoch.UnixMilli()             // a whole second
	s36Step(t, clk, 20, 100*time.Millisecond) // some 600 trades in two seconds
	for _, second := range []int64{1000, 2000} {
		got := map[string]float64{}
		for range 3 {
			m := s36Next(t, c)
			d := m["data"].(map[string]any)
			got[m["stream"].(string)] = d["E"].(float64) - float64(start)
		}
		assert.Equal(t, map[string]float64{"btcusdt@ticker": float64(second), "btcusdt@miniTicker": float64(second), "btcusdt@ticker_1h": float64(second)},
			got, "each ticker once a second, E the tick")
	}
}
