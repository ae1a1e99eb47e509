package normalize

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s41normFills returns n Bybit execution-topic fills of distinct trade ids.
func s41normFills(n int) [][]byte {
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = []byte(bybitExec("Trade", fmt.Sprintf("E-%08d", i), "1", "1"))
	}
	return msgs
}

// TestS41normRecentFillsGrowBounded: the set of recent fills (repeatFill)
// was made at its bound on a parser's first fill — a map and a ring of
// maxRecentFills keys, about 1 MB per private parser, most of it never
// used by a bot that fills a few orders. It now starts small and grows
// with the fills held, up to maxRecentFills and no further: past it the
// oldest is forgotten (a repeat of it is delivered again) and the newest
// still dropped.
func TestS41normRecentFillsGrowBounded(t *testing.T) {
	events := schema.NewPools(nil).Events
	sink := &putSink{events: events}
	p := NewBybit(events, sink, nil)
	require.NoError(t, p.HandleBytes(context.Background(), s41normFills(1)[0], 1))
	require.Equal(t, 1, sink.n)
	assert.LessOrEqual(t, cap(p.fills.ring), 64, "one fill held: the ring is not made at its bound")

	// the set itself, fill after fill (a frame each costs seconds under -race)
	fill := func(i int) bool {
		ev := &schema.CanonicalEvent{Symbol: "BTC-USDT", Exec: &schema.Execution{}}
		ev.Exec.ExecType, ev.Exec.Status = schema.ExecTrade, schema.StatusPartiallyFilled
		require.NoError(t, ev.Exec.VenueOrderID.Set("o-1"))
		require.NoError(t, ev.Exec.TradeID.Set(fmt.Sprintf("T-%08d", i)))
		return p.repeatFill(ev, amendNone)
	}
	const n = maxRecentFills + 100
	for i := range n {
		require.False(t, fill(i), "fill %d is new", i)
	}
	assert.Equal(t, maxRecentFills, len(p.fills.ring))
	assert.Equal(t, maxRecentFills, cap(p.fills.ring), "grown no further than its bound")
	assert.Len(t, p.fills.set, maxRecentFills)
	assert.True(t, fill(n-1), "the newest: a repeat")
	assert.False(t, fill(0), "the oldest: forgotten")
}

// TestS41normRecentFillsSteadyZeroAllocs: once the set is full, new fills
// cost no allocation, however long the set churns (its map grown on the
// way rather than made at its bound: a map's deletions leave tombstones
// that a long churn must not turn into growth).
func TestS41normRecentFillsSteadyZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	const warm, runs = 3 * maxRecentFills, 2 * maxRecentFills
	msgs := s41normFills(warm + runs + 1)
	events := schema.NewPools(nil).Events
	sink := &putSink{events: events}
	p := NewBybit(events, sink, nil)
	ctx := context.Background()
	for _, m := range msgs[:warm] {
		require.NoError(t, p.HandleBytes(ctx, m, 1))
	}
	next := warm
	allocs := testing.AllocsPerRun(runs, func() {
		if err := p.HandleBytes(ctx, msgs[next], 1); err != nil {
			t.Fatal(err)
		}
		next++
	})
	require.Zero(t, allocs)
	require.Zero(t, p.Stats().Repeats)
}

// BenchmarkS41normFirstFill: what a new parser's first fill costs (the
// set of recent fills is made then).
func BenchmarkS41normFirstFill(b *testing.B) {
	msg := s41normFills(1)[0]
	events := schema.NewPools(nil).Events
	sink := &putSink{events: events}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p := NewBybit(events, sink, nil)
		if err := p.HandleBytes(ctx, msg, 1); err != nil {
			b.Fatal(err)
		}
	}
}
