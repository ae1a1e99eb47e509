package dispatch

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS29QuoteBoundMarkerNamesTheStream: the gap marker of a quote dropped
// past the coalescing lane's bound named its venue and type only (Symbol
// ""), so a dispatcher it is relayed to (natsbridge: a held Publisher's
// subscription drops, the far side's Consumer publishes its marker) dropped
// the queued quotes of every symbol of that venue and type. It names the
// stream (symbol and view); one waits per stream, later drops merging in;
// past staleBound of them, one per (venue, type) names no symbol. On a
// dispatcher it reaches, only the named stream's queued quote goes.
func TestS29QuoteBoundMarkerNamesTheStream(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	r, s := stalled(t, d, p, SubscribeOptions{}, schema.EventTrade)
	s.mu.Lock()
	s.quoteBound, s.staleBound = 1, 2
	s.mu.Unlock()
	quote := func(sym string, interval string, id uint64) { publishKline(t, d, p, sym, interval, id) }
	quote("A", "1m", 1)
	quote("B", "1m", 2) // A's dropped: a marker about A, interval 1m
	quote("A", "1m", 3) // B's dropped: a marker about B
	quote("B", "1m", 4) // A's dropped again: merged into A's marker
	quote("C", "1m", 5) // B's dropped again: merged
	quote("D", "1m", 6) // C's dropped: past staleBound, a marker about the venue and type
	quote("E", "1m", 7) // D's: merged into that one
	s.mu.Lock()
	var markers []schema.CanonicalEvent
	for i := range s.crit.len() {
		if ev := s.crit.buf[(s.crit.head+i)%len(s.crit.buf)]; ev.Type == schema.EventGap {
			markers = append(markers, *ev)
		}
	}
	s.mu.Unlock()
	require.Len(t, markers, 3)
	for i, want := range []struct {
		sym   string
		count uint64
	}{{"A", 2}, {"B", 2}, {"", 2}} {
		m := markers[i]
		require.Equal(t, want.sym, m.Symbol, "marker %d", i)
		require.Equal(t, want.count, m.Control.GapCount, "marker %d", i)
		require.Equal(t, schema.EventKlineLive, m.Control.GapType)
		require.Equal(t, schema.GapSubscriberQueue, m.Control.GapSource)
		if want.sym != "" {
			require.Equal(t, "1m", m.Kline.Interval, "marker %d names the view", i)
		}
	}
	r.open()

	// Relayed to another dispatcher, a marker about A drops A's queued
	// quote there, not B's.
	far := New(p, nil)
	fr, fs := stalled(t, far, p, SubscribeOptions{}, schema.EventTrade)
	for i, sym := range []string{"A", "B"} {
		ev, err := p.TryGet()
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, sym, schema.EventKlineLive, uint64(10+i)
		ev.UseKline().Interval = "1m"
		require.NoError(t, far.Publish(context.Background(), ev))
	}
	ev, err := p.TryGet()
	require.NoError(t, err)
	m := markers[0]
	ev.Venue, ev.Symbol, ev.Type, ev.Control, ev.UseKline().Interval = m.Venue, m.Symbol, m.Type, m.Control, m.Kline.Interval
	require.NoError(t, far.Publish(context.Background(), ev))
	fs.mu.Lock()
	require.Equal(t, 1, fs.coalN, "a marker about A dropped the other streams' quotes")
	require.Nil(t, fs.slotOf(routeKey{venue: bin, symbol: "A", typ: schema.EventKlineLive, interval: "1m"}).ev)
	require.NotNil(t, fs.slotOf(routeKey{venue: bin, symbol: "B", typ: schema.EventKlineLive, interval: "1m"}).ev)
	fs.mu.Unlock()
	fr.open()
	closeDispatcher(t, far)
	closeDispatcher(t, d)
}
