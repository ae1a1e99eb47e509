package dispatch

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A gap marker about a symbol's tickers that names no window and does not
// state its kind (WindowClose 0) — a relay's (natsbridge keys its lost
// quotes by symbol, type, depth and interval: a lost 1 h ticker's marker
// names no window), a host's — says "the symbol's tickers are stale". A
// 1 h or 1 d ticker queued before it must not be delivered after it as the
// stream's state after the loss. Before, only the standard (24 h)
// tickers' slots were emptied: the 1 h and 1 d tickers queued before the
// marker came after it. A marker naming a window still empties that
// window's slots alone.
func TestS34rvwinWindowlessMarkerEmptiesEveryWindow(t *testing.T) {
	p := newEventPool(16)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, nil)
	require.NoError(t, err)
	ctx := context.Background()
	s34winHold(t, d, p, s, 1)
	require.NoError(t, d.Publish(ctx, s34winTicker(t, p, "", 2)))
	require.NoError(t, d.Publish(ctx, s34winTicker(t, p, "1h", 3)))
	require.NoError(t, d.Publish(ctx, s34winTicker(t, p, "1d", 4)))
	require.NoError(t, d.Publish(ctx, take(t, p, bin, "BTCUSDT", schema.EventTicker, 5))) // mini
	other := take(t, p, bin, "ETHUSDT", schema.EventTicker, 6)
	other.UseTicker().Window = "1h" // another symbol's: untouched
	require.NoError(t, d.Publish(ctx, other))
	require.Equal(t, 5, s.Stats().Coalescing)

	g := take(t, p, bin, "BTCUSDT", schema.EventGap, 7)
	g.UseControl().Kind, g.UseControl().GapType, g.UseControl().GapSource = schema.ControlGap, schema.EventTicker, schema.GapRelay
	require.NoError(t, d.Publish(ctx, g))
	require.Equal(t, 1, s.Stats().Coalescing, "a marker naming no window left a window's ticker queued before it")

	require.Equal(t, uint64(1), s34winRecv(t, s).SeqProvider)
	require.Equal(t, uint64(7), s34winRecv(t, s).SeqProvider)
	ev := s34winRecv(t, s)
	require.Equal(t, uint64(6), ev.SeqProvider)
	require.Equal(t, "ETHUSDT", ev.Symbol)

	// A marker about the full 24 h ticker (it states its kind: a
	// subscriber queue's, relayed) leaves the windows' tickers.
	s34winHold(t, d, p, s, 8)
	require.NoError(t, d.Publish(ctx, s34winTicker(t, p, "", 9)))
	require.NoError(t, d.Publish(ctx, s34winTicker(t, p, "1h", 10)))
	g = take(t, p, bin, "BTCUSDT", schema.EventGap, 11)
	g.UseControl().Kind, g.UseControl().GapType = schema.ControlGap, schema.EventTicker
	g.UseTicker().WindowClose = 1
	require.NoError(t, d.Publish(ctx, g))
	require.Equal(t, 1, s.Stats().Coalescing, "a marker about the full 24 h ticker emptied another window's slot")
	require.Equal(t, uint64(8), s34winRecv(t, s).SeqProvider)
	require.Equal(t, uint64(11), s34winRecv(t, s).SeqProvider)
	require.Equal(t, "1h", s34winRecv(t, s).Ticker.Window)
	require.NoError(t, d.Unsubscribe(s))
	closeDispatcher(t, d)
}

// Tickers of every window replacing their queued ones, and a window-less
// marker emptying them all, cost no allocation once the streams are known
// (the windows learned once, when their slots are made).
func TestS34rvwinWindowTickersInPlaceNoAllocs(t *testing.T) { // not parallel: it counts allocations
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	p := newEventPool(8)
	d := New(p, nil)
	r, s := stalled(t, d, p, SubscribeOptions{}, schema.EventTrade)
	ctx := context.Background()
	windows := []string{"", "1h", "4h", "1d"}
	var seq uint64 = 1
	pub := func() {
		for _, w := range windows {
			seq++
			ev, _ := p.TryGet()
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, "BTCUSDT", schema.EventTicker, seq
			ev.UseTicker().WindowClose, ev.UseTicker().Window = 1, w
			_ = d.Publish(ctx, ev)
		}
	}
	pub()
	require.Equal(t, 4, s.Stats().Coalescing)
	allocs := testing.AllocsPerRun(100, pub)
	require.Zero(t, allocs, "a window ticker replacing its queued one allocated")
	require.Equal(t, 4, s.Stats().Coalescing)
	r.open()
	closeDispatcher(t, d)
}

// Every combination of a ticker marker's window (none, one) and kind
// (states its window or not) against queued tickers of every window and
// kind: which slots it empties.
func TestS34rvwinMarkerWindowKindCombinations(t *testing.T) {
	type q struct {
		window string
		full   bool
	}
	queued := []q{{"", false}, {"", true}, {"1h", false}, {"1h", true}, {"1d", true}}
	for _, c := range []struct {
		window string
		full   bool
		left   []q // what stays queued, in line order
	}{
		{"", false, nil},
		{"", true, []q{{"", false}, {"1h", false}, {"1h", true}, {"1d", true}}},
		{"1h", false, []q{{"", false}, {"", true}, {"1d", true}}},
		{"1h", true, []q{{"", false}, {"", true}, {"1h", false}, {"1d", true}}},
	} {
		t.Run(c.window+map[bool]string{true: " full", false: " mini"}[c.full], func(t *testing.T) {
			p := newEventPool(16)
			d := New(p, nil)
			s, err := d.Subscribe(Filter{}, nil)
			require.NoError(t, err)
			ctx := context.Background()
			s34winHold(t, d, p, s, 1)
			for i, x := range queued {
				ev := take(t, p, bin, "BTCUSDT", schema.EventTicker, uint64(10+i))
				ev.UseTicker().Window = x.window
				if x.full {
					ev.UseTicker().WindowClose = 1
				}
				require.NoError(t, d.Publish(ctx, ev))
			}
			g := take(t, p, bin, "BTCUSDT", schema.EventGap, 2)
			g.UseControl().Kind, g.UseControl().GapType, g.UseTicker().Window = schema.ControlGap, schema.EventTicker, c.window
			if c.full {
				g.UseTicker().WindowClose = 1
			}
			require.NoError(t, d.Publish(ctx, g))
			require.Equal(t, len(c.left), s.Stats().Coalescing)
			require.Equal(t, uint64(1), s34winRecv(t, s).SeqProvider)
			require.Equal(t, uint64(2), s34winRecv(t, s).SeqProvider)
			for _, want := range c.left {
				ev := s34winRecv(t, s)
				require.Equal(t, want, q{ev.Ticker.Window, ev.Ticker.WindowClose != 0})
			}
			require.NoError(t, d.Unsubscribe(s))
			closeDispatcher(t, d)
		})
	}
}
