package meltica_test

import (
	"context"
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

// A session subscribes Binance's rolling-window tickers beside the 24 h
// ones (Spot "WebSocket Streams", "Individual Symbol Rolling Window
// Statistics Streams": <symbol>@ticker_<1h|4h|1d>) and the host gets each
// window's ticker, named apart (schema.Ticker.Window "1h", "4h", "1d"; ""
// for the 24 h ticker and the mini ticker), with the window's weighted
// average price. Before, the venue simulator refused the streams, and the
// parser counted their messages Ignored.
func TestS34winSessionRollingWindowTickers(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 200, PingInterval: -1})
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*s27ctWait)
	defer cancel()
	var mu sync.Mutex
	seen := map[string]int{}
	var bad []string
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"ticker", "miniTicker", "ticker_1h", "ticker_4h", "ticker_1d"},
		Subscribe: func(d *dispatch.Dispatcher) error {
			_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTicker}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
				mu.Lock()
				defer mu.Unlock()
				x := ev.Ticker
				if x == nil {
					bad = append(bad, "a ticker without its Ticker section")
					return
				}
				kind := x.Window
				if x.WindowClose == 0 {
					kind = "mini"
				}
				seen[kind]++
				if kind != "mini" && (x.WeightedAvgPrice.IsZero() || x.Last.IsZero()) {
					bad = append(bad, kind+": no weighted average price or last price")
				}
			}})
			return err
		},
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close(context.Background())) }()
	require.NoError(t, s.WaitConnected(ctx))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return seen[""] > 0 && seen["mini"] > 0 && seen["1h"] > 0 && seen["4h"] > 0 && seen["1d"] > 0
	}, 5*s27ctWait, 10*time.Millisecond, "tickers of every window")
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, bad)
}
