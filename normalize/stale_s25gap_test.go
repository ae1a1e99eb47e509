package normalize

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s25gapSink keeps what it is given (so the pool stays as exhausted as the
// test makes it) until the test returns it.
type s25gapSink struct{ evs []*schema.CanonicalEvent }

func (s *s25gapSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s.evs = append(s.evs, ev)
	return nil
}

// drain returns everything published so far to the pool and tells what it was.
func (s *s25gapSink) drain(events *pool.Pool[*schema.CanonicalEvent]) []string {
	var out []string
	for _, ev := range s.evs {
		if ev.Type == schema.EventGap {
			out = append(out, fmt.Sprintf("gap %s %s %s", ev.Symbol, ev.Control.GapType, ev.KlineInterval()))
		} else {
			out = append(out, fmt.Sprintf("%s %s %d", ev.Type, ev.Symbol, ev.SeqProvider))
		}
		events.Put(ev)
	}
	s.evs = s.evs[:0]
	return out
}

func s25gapQuote(sym string, u int) []byte {
	return fmt.Appendf(nil, `{"u":%d,"s":"%s","b":"1.00","B":"1","a":"1.01","A":"2"}`, u, sym)
}

func s25gapTrade(t int) []byte {
	return fmt.Appendf(nil, `{"e":"trade","E":1700000000000,"s":"BTCUSDT","t":%d,"p":"1.00","q":"0.001","T":1700000000000,"m":true}`, t)
}

func s25gapKline(interval string) []byte {
	return fmt.Appendf(nil, `{"e":"kline","E":1700000000000,"s":"BTCUSDT","k":{"t":1700000000000,"T":1700000059999,"s":"BTCUSDT","i":"%s","f":1,"L":2,"o":"1.00","c":"1.00","h":"1.00","l":"1.00","v":"1","n":2,"x":false,"q":"1","V":"0","Q":"0","B":"0"}}`, interval)
}

// A pool of n events, all held by the test but free ones.
func s25gapParser(t *testing.T, n, free int) (*Parser, *s25gapSink, *pool.Pool[*schema.CanonicalEvent], []*schema.CanonicalEvent) {
	t.Helper()
	events := pool.New("events", n, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	var held []*schema.CanonicalEvent
	for range n - free {
		ev, err := events.Get(context.Background())
		require.NoError(t, err)
		held = append(held, ev)
	}
	sink := &s25gapSink{}
	return NewBinance(events, sink, nil), sink, events, held
}

// Dropped quotes of one stream, many times: one mark, one marker when the
// pool yields again; none when a fresher quote of the stream came first.
func TestS25gapStaleQuoteOneMarker(t *testing.T) {
	ctx := context.Background()
	p, sink, events, held := s25gapParser(t, 4, 0)
	for u := 1; u <= 50; u++ {
		require.ErrorIs(t, p.HandleBytes(ctx, s25gapQuote("BTCUSDT", u), 1), ErrDropped)
	}
	assert.Len(t, p.stale, 1, "one mark per stream, however many drops")
	// Room again: the next message of another stream announces it.
	events.Put(held[0])
	events.Put(held[1])
	held = held[2:]
	require.NoError(t, p.HandleBytes(ctx, s25gapQuote("ETHUSDT", 1), 2))
	assert.Equal(t, []string{"gap BTC-USDT bbo ", "bbo ETH-USDT 1"}, sink.drain(events))
	require.NoError(t, p.HandleBytes(ctx, s25gapQuote("ETHUSDT", 2), 3))
	assert.Equal(t, []string{"bbo ETH-USDT 2"}, sink.drain(events), "announced once")

	// Dropped, then superseded by a fresher quote of the same stream: no marker.
	events.Put(held[0])
	events.Put(held[1])
	a, _ := events.TryGet()
	b, _ := events.TryGet()
	c, _ := events.TryGet()
	d, _ := events.TryGet()
	require.ErrorIs(t, p.HandleBytes(ctx, s25gapQuote("BTCUSDT", 60), 4), ErrDropped)
	events.Put(a)
	require.NoError(t, p.HandleBytes(ctx, s25gapQuote("BTCUSDT", 61), 5))
	assert.Equal(t, []string{"bbo BTC-USDT 61"}, sink.drain(events), "the fresher quote is the announcement")
	assert.Empty(t, p.stale)
	for _, ev := range []*schema.CanonicalEvent{b, c, d} {
		events.Put(ev)
	}
	require.NoError(t, events.Shutdown(ctx))
}

// A trade never gives its event up for a marker: the mark waits for an
// event the pool yields. Klines of two intervals are two streams.
func TestS25gapStaleMarkWaitsForRoom(t *testing.T) {
	ctx := context.Background()
	p, sink, events, held := s25gapParser(t, 4, 0)
	require.ErrorIs(t, p.HandleBytes(ctx, s25gapKline("1m"), 1), ErrDropped)
	require.ErrorIs(t, p.HandleBytes(ctx, s25gapKline("1h"), 1), ErrDropped)
	require.ErrorIs(t, p.HandleBytes(ctx, s25gapKline("1m"), 1), ErrDropped)
	assert.Len(t, p.stale, 2)
	events.Put(held[0])
	held = held[1:]
	require.NoError(t, p.HandleBytes(ctx, s25gapTrade(1), 2))
	assert.Equal(t, []string{"trade BTC-USDT 1"}, sink.drain(events))
	assert.Len(t, p.stale, 2, "the pool had one event: the trade's")
	require.NoError(t, p.HandleBytes(ctx, s25gapTrade(2), 3))
	got := sink.drain(events)
	assert.Equal(t, []string{"trade BTC-USDT 2"}, got, "still no room for a marker")
	events.Put(held[0])
	events.Put(held[1])
	events.Put(held[2])
	require.NoError(t, p.HandleBytes(ctx, s25gapTrade(3), 4))
	got = sink.drain(events)
	require.Len(t, got, 3)
	assert.ElementsMatch(t, []string{"gap BTC-USDT kline_live 1m", "gap BTC-USDT kline_live 1h"}, got[:2], "room: the markers, then the trade")
	assert.Equal(t, "trade BTC-USDT 3", got[2])
	assert.Empty(t, p.stale)
	require.NoError(t, events.Shutdown(ctx))
}

// Marks cost nothing once the set has grown to the streams: marking a
// stream again after its marker went out allocates nothing (the error of
// a dropped message is what allocates, as before this change).
func TestS25gapStaleMarksNoGrowth(t *testing.T) {
	p, _, _, _ := s25gapParser(t, 1, 1)
	ev := &schema.CanonicalEvent{Symbol: "BTC-USDT", Type: schema.EventBBO}
	p.markStale(ev)
	allocs := testing.AllocsPerRun(100, func() {
		p.markStale(ev)
		delete(p.stale, staleKeyOf(ev)) // announced or superseded
		p.markStale(ev)
		p.markStale(ev) // dropped again before the pool yields
	})
	assert.Zero(t, allocs)
	assert.Len(t, p.stale, 1)
}
