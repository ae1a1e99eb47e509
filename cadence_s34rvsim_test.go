package meltica_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// Everything the simulated Binance pushes on its own cadence, taken end
// to end through the public API: a session whose stream URL names the
// all-market ticker arrays (!miniTicker@arr, !ticker@arr: the array is
// "data" of the combined stream, spot "WebSocket Streams", "All Market
// Mini Tickers Stream") beside its own channels — trades, the 1s and 1m
// klines ("Update Speed: 1000ms for 1s, 2000ms for the other intervals"),
// a partial book of each speed ("Partial Book Depth Streams").
// The host gets tickers of both symbols from the arrays,
// closed 1s candles (each candle closed once) and live 1m candles,
// partial books, and the parser counts no error and nothing unknown.
func TestS34rvsimSessionTakesTheCadencedStreams(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Rate: 200, PingInterval: -1})
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*s27ctWait)
	defer cancel()
	var mu sync.Mutex
	seen := map[string]bool{}
	closed := map[string]int{} // symbol interval open time → closed candles
	closed1s := 0
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.StreamURL("!miniTicker@arr", "!ticker@arr"), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT", "ETH-USDT"},
		Channels:  []string{"trade", "kline_1s", "kline_1m", "depth5", "depth10@100ms"},
		Subscribe: func(d *dispatch.Dispatcher) error {
			_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
				mu.Lock()
				defer mu.Unlock()
				switch ev.Type {
				case schema.EventTicker:
					seen["ticker "+ev.Symbol] = true
				case schema.EventKlineClosed:
					seen["closed "+ev.Kline.Interval] = true
					closed[fmt.Sprint(ev.Symbol, " ", ev.Kline.Interval, " ", ev.Kline.OpenTime)]++
					if ev.Kline.Interval == "1s" {
						closed1s++
					}
				case schema.EventKlineLive:
					seen["live "+ev.Kline.Interval] = true
				case schema.EventBookSnapshot:
					seen["partial"] = true
				case schema.EventTrade:
					seen["trade"] = true
				}
			}})
			return err
		},
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close(context.Background())) }()
	require.NoError(t, s.WaitConnected(ctx))
	want := []string{"ticker BTC-USDT", "ticker ETH-USDT", "closed 1s", "live 1m", "partial", "trade"}
	assert.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, w := range want {
			if !seen[w] {
				return false
			}
		}
		return closed1s >= 6
	}, 5*s27ctWait, 10*time.Millisecond, "every cadenced stream reaches the host")
	mu.Lock()
	t.Logf("seen: %v", seen)
	for k, n := range closed {
		assert.Equal(t, 1, n, "%s: one closed candle", k)
	}
	mu.Unlock()
	st := s.Stats()
	require.NotEmpty(t, st.Market)
	for _, m := range st.Market {
		p := m.Parser
		assert.Zero(t, p.Errors, "no parse error: %+v", p)
		assert.Zero(t, p.Unknown, "nothing unknown: %+v", p)
		assert.Zero(t, p.Dropped+p.SinkErrors+p.Panics, "nothing dropped: %+v", p)
	}
}
