package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Binance sends a symbol's statistics over several rolling windows (spot
// "WebSocket Streams": "Individual Symbol Ticker Streams", 24hrTicker, and
// "Individual Symbol Rolling Window Statistics Streams", 1hTicker,
// 4hTicker, 1dTicker), each stating its window ("O", "C"). One
// latest-wins slot for all of them let a 1 h ticker replace the 24 h one
// queued for a slow subscriber (1dTicker and 24hrTicker even span the same
// 24 h): the subscriber never saw the 24 h statistics, served the 1 h ones
// in their place. Ticker.Window names the window: a stream of its own.

// s34winTicker is a full ticker of BTCUSDT of window w, numbered seq.
func s34winTicker(t *testing.T, p *pool.Pool[*schema.CanonicalEvent], w string, seq uint64) *schema.CanonicalEvent {
	t.Helper()
	ev := take(t, p, bin, "BTCUSDT", schema.EventTicker, seq)
	ev.UseTicker().WindowOpen, ev.UseTicker().WindowClose = 1672429382136e6, 1672515782136e6
	ev.UseTicker().Window, ev.UseTicker().TradeCount = w, seq
	return ev
}

// s34winRecv takes the next event s delivers.
func s34winRecv(t *testing.T, s *Subscription) *schema.CanonicalEvent {
	t.Helper()
	select {
	case ev := <-s.C():
		return ev
	case <-time.After(30 * time.Second):
		t.Fatal("nothing delivered")
		return nil
	}
}

// s34winHold publishes a trade the subscription's goroutine takes and
// offers on C: what is published next waits in its queues.
func s34winHold(t *testing.T, d *Dispatcher, p *pool.Pool[*schema.CanonicalEvent], s *Subscription, seq uint64) {
	t.Helper()
	publish(t, d, p, bin, "ETHUSDT", schema.EventTrade, seq)
	eventually(t, func() bool { return s.Stats().Depth == 0 }, "the goroutine took the trade")
}

func TestS34winWindowTickersAreStreamsApart(t *testing.T) {
	p := newEventPool(16)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, nil) // a channel: events wait until read
	require.NoError(t, err)
	ctx := context.Background()
	s34winHold(t, d, p, s, 1)
	require.NoError(t, d.Publish(ctx, s34winTicker(t, p, "", 2)))
	require.NoError(t, d.Publish(ctx, s34winTicker(t, p, "1h", 3)))
	require.NoError(t, d.Publish(ctx, s34winTicker(t, p, "1d", 4)))
	mini := take(t, p, bin, "BTCUSDT", schema.EventTicker, 5)
	mini.UseTicker() // a mini ticker: the section, stating no window
	require.NoError(t, d.Publish(ctx, mini))
	require.NoError(t, d.Publish(ctx, s34winTicker(t, p, "1h", 6))) // replaces 3 only
	require.Equal(t, 4, s.Stats().Coalescing, "tickers of two windows share a slot: one replaced the other")
	require.Equal(t, uint64(1), s34winRecv(t, s).SeqProvider)
	for _, want := range []struct {
		seq    uint64
		window string
	}{{2, ""}, {6, "1h"}, {4, "1d"}, {5, ""}} {
		ev := s34winRecv(t, s)
		require.Equal(t, want.seq, ev.SeqProvider)
		require.Equal(t, want.window, ev.Ticker.Window)
	}
	require.Equal(t, uint64(1), s.Stats().Coalesced, "only the 1 h ticker replaced")
	require.NoError(t, d.Unsubscribe(s))
	closeDispatcher(t, d)
}

// A gap marker about one window's ticker (normalize's, when its pool ran
// dry, names the window as the ticker did) replaces that window's queued
// ticker only; one that names no window (nor states its kind) is about
// every ticker of the symbol: the standard ones (24hrTicker and
// 24hrMiniTicker) and the rolling windows' (see
// TestS34rvwinWindowlessMarkerEmptiesEveryWindow).
func TestS34winGapMarkerOfOneWindow(t *testing.T) {
	p := newEventPool(16)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, nil)
	require.NoError(t, err)
	ctx := context.Background()
	s34winHold(t, d, p, s, 1)
	require.NoError(t, d.Publish(ctx, s34winTicker(t, p, "", 2)))
	require.NoError(t, d.Publish(ctx, s34winTicker(t, p, "1h", 3)))
	require.NoError(t, d.Publish(ctx, s34winTicker(t, p, "4h", 4)))
	require.NoError(t, d.Publish(ctx, take(t, p, bin, "BTCUSDT", schema.EventTicker, 5))) // mini
	require.Equal(t, 4, s.Stats().Coalescing)
	g := take(t, p, bin, "BTCUSDT", schema.EventGap, 6)
	g.UseControl().Kind, g.UseControl().GapType, g.UseTicker().Window = schema.ControlGap, schema.EventTicker, "1h"
	require.NoError(t, d.Publish(ctx, g))
	require.Equal(t, 3, s.Stats().Coalescing, "a marker about the 1 h ticker replaces that ticker alone")
	g = take(t, p, bin, "BTCUSDT", schema.EventGap, 7)
	g.UseControl().Kind, g.UseControl().GapType = schema.ControlGap, schema.EventTicker
	require.NoError(t, d.Publish(ctx, g))
	require.Zero(t, s.Stats().Coalescing, "a marker naming no window replaces every window's tickers, full and mini")
	require.Equal(t, uint64(1), s34winRecv(t, s).SeqProvider)
	require.Equal(t, uint64(6), s34winRecv(t, s).SeqProvider)
	require.Equal(t, uint64(7), s34winRecv(t, s).SeqProvider)
	require.NoError(t, d.Unsubscribe(s))
	closeDispatcher(t, d)
}

// A subscriber's queue past its bound of quotes drops the oldest and
// queues a marker about its stream, found again by the stream's key
// (staleKey) once delivered. A marker about a 1 h ticker must name its
// window, or it is filed under one key and looked up under another: never
// unfiled, every later drop of the stream merged into a marker already
// delivered — a quote lost unannounced.
func TestS34winStaleMarkerOfAWindowTicker(t *testing.T) {
	p := newEventPool(16)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, nil)
	require.NoError(t, err)
	s.mu.Lock()
	s.quoteBound = 1
	s.mu.Unlock()
	ctx := context.Background()
	s34winHold(t, d, p, s, 1)
	require.NoError(t, d.Publish(ctx, s34winTicker(t, p, "1h", 2)))
	publish(t, d, p, bin, "ETHUSDT", schema.EventBBO, 3) // over the bound: the 1 h ticker dropped, a marker queued
	require.Equal(t, 1, s.Stats().Critical)
	require.Equal(t, schema.EventTrade, s34winRecv(t, s).Type)
	g := s34winRecv(t, s)
	require.Equal(t, schema.EventGap, g.Type)
	require.Equal(t, "1h", g.Ticker.Window, "the marker names the window whose ticker was dropped")
	require.Equal(t, schema.EventBBO, s34winRecv(t, s).Type)
	s.mu.Lock()
	n := len(s.stale)
	s.mu.Unlock()
	require.Zero(t, n, "the delivered marker of the 1 h ticker's drop is still filed: later drops merge into it, unannounced")
	require.NoError(t, d.Unsubscribe(s))
	closeDispatcher(t, d)
}
