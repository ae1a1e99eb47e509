package normalize

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// countSink counts events by type and checks each one.
type countSink struct {
	events *schema.Pools
	mu     sync.Mutex
	byType map[schema.EventType]int
	bad    []string
	enough chan struct{}
	once   sync.Once
}

func (s *countSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	defer s.events.Events.Put(ev)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ev.Validate(); err != nil {
		s.bad = append(s.bad, err.Error())
	}
	if ev.Type != schema.EventControl && ev.Type != schema.EventGap && ev.Symbol != "BTC-USDT" && ev.Symbol != "ETH-USDT" {
		s.bad = append(s.bad, "symbol "+ev.Symbol)
	}
	s.byType[ev.Type]++
	if s.byType[schema.EventTrade] >= 20 && s.byType[schema.EventBookUpdate] >= 5 && s.byType[schema.EventBBO] >= 5 && s.byType[schema.EventGap] >= 1 {
		s.once.Do(func() { close(s.enough) })
	}
	return nil
}

// TestBinanceEndToEnd runs the parser as the frame handler of a real
// websocket client against the simulated venue, with an injected depth gap.
func TestBinanceEndToEnd(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	venue := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Rate: 2000, PingInterval: -1})
	defer venue.Close()
	pools := schema.NewPools(nil)
	sink := &countSink{events: pools, byType: map[schema.EventType]int{}, enough: make(chan struct{})}
	p := NewBinance(pools.Events, sink, nil)
	url := venue.StreamURL("btcusdt@trade", "btcusdt@aggTrade", "btcusdt@bookTicker", "btcusdt@depth@100ms",
		"ethusdt@depth@100ms", "ethusdt@kline_1m")
	client, err := wsclient.New(url, p.HandleFrame, &wsclient.Options{Venue: schema.VenueBinance, Frames: pools.Frames})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- client.Run(ctx) }()

	// Once diffs flow, make the venue skip update ids: a gap event follows.
	// Diffs come batched every 100 ms (venuesim follows Binance's
	// cadence), so wait for each symbol's second before the fault: the
	// parser needs a diff to find the next one's gap against.
	diffs := func() int {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return sink.byType[schema.EventBookUpdate]
	}
	for p.Stats().Events < 50 || diffs() < 4 {
		select {
		case <-ctx.Done():
			t.Fatalf("no events: %+v", p.Stats())
		case <-time.After(time.Millisecond):
		}
	}
	venue.Inject(venuesim.FaultDepthGap)
	select {
	case <-sink.enough:
	case <-ctx.Done():
		t.Fatalf("not enough events: %+v %v", p.Stats(), sink.byType)
	}
	require.NoError(t, client.Close(context.Background()))
	require.NoError(t, <-done)

	st := p.Stats()
	require.Zero(t, st.Errors, "every simulated message parses")
	require.Zero(t, st.Unknown)
	sink.mu.Lock()
	defer sink.mu.Unlock()
	require.Empty(t, sink.bad)
	require.GreaterOrEqual(t, sink.byType[schema.EventGap], 1)
	require.Zero(t, pools.Events.Stats().InUse)
}
