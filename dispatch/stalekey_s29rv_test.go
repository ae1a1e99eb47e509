package dispatch

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// TestS29rvStaleMarkerOfSymbollessViewEnds: a quote-bound gap marker about
// a stream without a symbol but with a view (here a kline of interval 1m,
// Symbol "") is keyed in Subscription.stale by its stream, and must leave
// it when delivered, as every other: later drops of the stream then get a
// marker of their own. staleKey read a marker without a symbol as the one
// about its venue and type (no view), so the entry stayed after delivery:
// later drops of the stream merged into the marker already handed to the
// handler (GapCount written on an event the host holds, and the drop never
// announced), and the entry counted against staleBound for good.
func TestS29rvStaleMarkerOfSymbollessViewEnds(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	r, s := stalled(t, d, p, SubscribeOptions{}, schema.EventTrade)
	s.mu.Lock()
	s.quoteBound = 1
	s.mu.Unlock()
	quote := func(sym string, id uint64) { publishKline(t, d, p, sym, "1m", id) }
	quote("", 1)  // stream X: no symbol, interval 1m
	quote("B", 2) // X's dropped: a marker about X
	// Let the handler through until it has the marker.
	for {
		r.gate <- struct{}{}
		if ev := r.waitEntered(t); ev.Type == schema.EventGap {
			require.Equal(t, "1m", ev.Kline.Interval, "the marker names X's view")
			break
		}
	}
	s.mu.Lock()
	require.Empty(t, s.stale, "the marker delivered still waits in stale")
	gaps := s.counters.Gaps
	s.mu.Unlock()
	// B still queued (the handler holds the marker).
	quote("", 3)  // B's dropped: a marker about B
	quote("C", 4) // X's dropped: a new marker about X
	quote("D", 5) // C's dropped: a marker about C
	s.mu.Lock()
	require.Equal(t, gaps+3, s.counters.Gaps, "a drop merged into a marker already delivered")
	s.mu.Unlock()
	r.open()
	closeDispatcher(t, d)
}

// publishKline publishes a pooled live kline of Binance symbol sym and
// interval, numbered id by the venue, and requires success.
func publishKline(t testing.TB, d *Dispatcher, p *pool.Pool[*schema.CanonicalEvent], sym, interval string, id uint64) {
	t.Helper()
	ev, err := p.TryGet()
	require.NoError(t, err)
	ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, sym, schema.EventKlineLive, id
	ev.UseKline().Interval = interval
	require.NoError(t, d.Publish(context.Background(), ev))
}
