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
	"github.com/meltica/meltica/wsclient"
)

// Never silently stale through a session, for every coalescable stream
// the simulated Binance serves (bookTicker quotes and live 1 m klines): a
// subscriber held still has a quote and a live candle queued when the
// venue resets the market connection. The session announces the loss
// ("a schema.EventGap with Control.GapType schema.EventUnknown ...
// package dispatch ... drops the coalescable events they have queued for
// it"), so once released the subscriber hears of the gap before any
// quote, and no quote or candle received before the reset is delivered
// after the marker.
func TestS27ctSessionLossWithdrawsEveryQueuedQuote(t *testing.T) {
	ctx := context.Background()
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 500})
	defer v.Close()
	lost := make(chan struct{})
	var lostOnce sync.Once
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"bookTicker", "kline_1m"},
		OnState: func(_ session.Conn, ev wsclient.Event) {
			if ev.State == schema.ConnDisconnected {
				lostOnce.Do(func() { close(lost) })
			}
		},
	})
	require.NoError(t, err)
	defer func() { assert.NoError(t, s.Close(ctx)) }()
	wctx, cancel := context.WithTimeout(ctx, s27ctWait)
	defer cancel()
	require.NoError(t, s.WaitConnected(wctx))

	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var got []*schema.CanonicalEvent
	first := true
	sub, err := s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBBO, schema.EventKlineLive}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		if first {
			first = false
			close(entered)
			<-release
			return
		}
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}})
	require.NoError(t, err)
	s27ctClosed(t, entered, "the subscriber holds its first event")
	require.Eventually(t, func() bool { return sub.Stats().Coalescing >= 2 }, s27ctWait, time.Millisecond, "a quote and a live candle queued")
	before := time.Now().UnixNano()
	require.Positive(t, v.Inject(venuesim.FaultReset))
	s27ctClosed(t, lost, "the session saw the loss")
	close(release)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		var bbo, kline bool
		for _, ev := range got {
			if ev.IngestTS > before {
				bbo = bbo || ev.Type == schema.EventBBO
				kline = kline || ev.Type == schema.EventKlineLive
			}
		}
		return bbo && kline
	}, s27ctWait, time.Millisecond, "fresh quotes and candles after the reconnect")
	mu.Lock()
	defer mu.Unlock()
	marker := -1
	for i, ev := range got {
		if ev.Type == schema.EventGap {
			marker = i
			break
		}
	}
	require.GreaterOrEqual(t, marker, 0, "the subscriber heard of the loss")
	assert.Equal(t, schema.EventUnknown, got[marker].Control.GapType)
	for _, ev := range got[:marker] {
		t.Errorf("a %v delivered before the marker while the subscriber was held: queued before the loss", ev.Type)
	}
	for _, ev := range got[marker+1:] {
		if ev.Type != schema.EventGap {
			assert.Greater(t, ev.IngestTS, before, "a %v received before the reset delivered after the marker", ev.Type)
		}
	}
}
