package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS31MiniTickerDoesNotReplaceFullTicker: Binance sends two tickers of
// one symbol, 24hrTicker and 24hrMiniTicker ("Individual Symbol Ticker
// Streams", "Individual Symbol Mini Ticker Stream"); the mini one carries
// the last price, open, high, low and volumes only. Both are EventTicker,
// and the coalescing key was (venue, symbol, type, depth, interval): in a
// slow subscriber's latest-wins queue the mini ticker replaced the full
// one, whose bid, ask, change and trade count the subscriber never saw —
// served zeros, silently. The full one states its window ("O", "C":
// Ticker.WindowOpen, WindowClose), the mini one does not: two streams,
// each latest-wins; a gap marker about the symbol's tickers, which states
// no window, still empties both.
func TestS31MiniTickerDoesNotReplaceFullTicker(t *testing.T) {
	p := newEventPool(16)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, nil) // a channel: events wait until read
	require.NoError(t, err)
	ticker := func(seq uint64, mini bool) *schema.CanonicalEvent {
		ev := take(t, p, bin, "BTCUSDT", schema.EventTicker, seq)
		tk := ev.UseTicker() // both carry the section
		if !mini {           // fields the mini ticker does not carry
			tk.WindowOpen, tk.WindowClose = 1672429382136e6, 1672515782136e6
			tk.TradeCount = seq
		}
		return ev
	}
	recv := func() *schema.CanonicalEvent {
		t.Helper()
		select {
		case ev := <-s.C():
			return ev
		case <-time.After(30 * time.Second):
			t.Fatal("nothing delivered")
			return nil
		}
	}
	ctx := context.Background()
	hold := func(seq uint64) { // a trade the goroutine takes and offers on C: what comes next waits
		publish(t, d, p, bin, "ETHUSDT", schema.EventTrade, seq)
		eventually(t, func() bool { return s.Stats().Depth == 0 }, "the goroutine took the trade")
	}
	hold(1)
	require.NoError(t, d.Publish(ctx, ticker(2, false)))
	require.NoError(t, d.Publish(ctx, ticker(3, true)))
	require.NoError(t, d.Publish(ctx, ticker(4, false))) // replaces 2
	require.NoError(t, d.Publish(ctx, ticker(5, true)))  // replaces 3
	require.Equal(t, 2, s.Stats().Coalescing, "the full ticker and the mini ticker share a slot: one replaced the other")
	require.Equal(t, uint64(1), recv().SeqProvider)
	full, mini := recv(), recv()
	require.Equal(t, uint64(4), full.SeqProvider)
	require.Equal(t, uint64(4), full.Ticker.TradeCount)
	require.Equal(t, uint64(5), mini.SeqProvider)
	require.Zero(t, mini.Ticker.WindowClose)

	hold(6)
	require.NoError(t, d.Publish(ctx, ticker(7, false)))
	require.NoError(t, d.Publish(ctx, ticker(8, true)))
	require.Equal(t, 2, s.Stats().Coalescing)
	g := take(t, p, bin, "BTCUSDT", schema.EventGap, 9)
	g.UseControl().Kind, g.UseControl().GapType = schema.ControlGap, schema.EventTicker
	require.NoError(t, d.Publish(ctx, g))
	st := s.Stats()
	require.Zero(t, st.Coalescing, "a ticker of before the gap marker still queued behind it")
	require.Equal(t, 1, st.Critical)
	require.Equal(t, uint64(6), recv().SeqProvider)
	require.Equal(t, schema.EventGap, recv().Type)
	require.NoError(t, d.Unsubscribe(s))
	closeDispatcher(t, d)
}

// TestS31StaleMarkerOfAFullTicker: a subscriber's queue past its bound of
// quotes drops the oldest and queues a gap marker about its stream, found
// again by the stream's key (staleKey) when it is delivered, so that later
// drops get a new marker. A marker about a full ticker must name its kind
// (its window), or it is filed under the mini ticker's key: never found,
// every later drop of the stream merged into a marker already delivered —
// a quote lost unannounced.
func TestS31StaleMarkerOfAFullTicker(t *testing.T) {
	p := newEventPool(16)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, nil)
	require.NoError(t, err)
	s.mu.Lock()
	s.quoteBound = 1
	s.mu.Unlock()
	ctx := context.Background()
	publish(t, d, p, bin, "ETHUSDT", schema.EventTrade, 1) // taken by the goroutine: what comes next waits
	eventually(t, func() bool { return s.Stats().Depth == 0 }, "the goroutine took the trade")
	full := take(t, p, bin, "BTCUSDT", schema.EventTicker, 2)
	full.UseTicker().WindowClose = 1672515782136e6
	require.NoError(t, d.Publish(ctx, full))
	publish(t, d, p, bin, "ETHUSDT", schema.EventBBO, 3) // over the bound: the full ticker dropped, a marker queued
	require.Equal(t, 1, s.Stats().Critical)
	for _, want := range []schema.EventType{schema.EventTrade, schema.EventGap, schema.EventBBO} {
		select {
		case ev := <-s.C():
			require.Equal(t, want, ev.Type)
		case <-time.After(30 * time.Second):
			t.Fatal("nothing delivered")
		}
	}
	s.mu.Lock()
	n := len(s.stale)
	s.mu.Unlock()
	require.Zero(t, n, "the delivered marker of the full ticker's drop is still filed: later drops merge into it, unannounced")
	require.NoError(t, d.Unsubscribe(s))
	closeDispatcher(t, d)
}
