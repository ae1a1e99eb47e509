package meltica_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// A session subscribes Binance's UTC+8 klines beside the UTC ones of the
// same interval (Spot "WebSocket Streams", "Kline/Candlestick Streams
// with timezone offset": <symbol>@kline_<interval>@+08:00) and the host
// gets both, named apart ("1m" and "1m+08:00"). Before, Start refused the
// stream name (normalize: bad value: stream name).
func TestS33leadSessionUTC8Klines(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 200, PingInterval: -1})
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*s27ctWait)
	defer cancel()
	var mu sync.Mutex
	seen := map[string]bool{}
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"kline_1m", "kline_1m@+08:00"},
		Subscribe: func(d *dispatch.Dispatcher) error {
			_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventKlineLive, schema.EventKlineClosed}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
				mu.Lock()
				seen[ev.Kline.Interval] = true
				mu.Unlock()
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
		return seen["1m"] && seen["1m+08:00"]
	}, 5*s27ctWait, 10*time.Millisecond, "klines of both streams")
}
