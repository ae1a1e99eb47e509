package merge_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch/merge"
	"github.com/meltica/meltica/schema"
)

// The tests in this file hold the package documentation (go doc -all
// ./dispatch/merge) to its concrete statements, through the public API.

// keepSink keeps a standalone copy of each merged event and returns the
// pooled one, taking ownership as Sink says.
type keepSink struct {
	pools *schema.Pools
	got   []*schema.MergedEvent
}

func (s *keepSink) PublishMerged(_ context.Context, m *schema.MergedEvent) error {
	s.got = append(s.got, m.Clone())
	s.pools.Merged.Put(m)
	return nil
}

func (s *keepSink) last(t *testing.T) *schema.MergedEvent {
	t.Helper()
	require.NotEmpty(t, s.got)
	return s.got[len(s.got)-1]
}

// Continuous: "A venue whose quote is older than Options.Staleness leaves
// it, and so does one whose book is lost (a gap marker) or whose connection
// is in any state other than connected [...] It comes back once connected
// again, with its first quote received after the reconnection."
func TestDocContinuousVenueLeavesAndReturns(t *testing.T) {
	pools := schema.NewPools(nil)
	sink := &keepSink{pools: pools}
	now := time.Unix(1_700_000_000, 0)
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX},
		Mode: merge.Continuous, Sink: sink, Merged: pools.Merged, Now: func() time.Time { return now }})
	require.NoError(t, err)
	ctx := context.Background()
	quote := func(v schema.Venue, bid, ask string) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventBBO, IngestTS: now.UnixNano(), BBO: schema.BBO{
			BidPrice: schema.MustParseDecimal(bid), BidQty: schema.MustParseDecimal("1"),
			AskPrice: schema.MustParseDecimal(ask), AskQty: schema.MustParseDecimal("1")}}
	}
	state := func(v schema.Venue, st schema.ConnState) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Venue: v, Type: schema.EventConnState, IngestTS: now.UnixNano(),
			Control: &schema.Control{Kind: schema.ControlConnState, State: st}}
	}
	require.NoError(t, m.Add(ctx, quote(schema.VenueBinance, "100.1", "100.4")))
	require.NoError(t, m.Add(ctx, quote(schema.VenueOKX, "100.2", "100.3")))
	assert.Equal(t, schema.VenueOKX, sink.last(t).BestBidVenue)

	for _, st := range []schema.ConnState{schema.ConnDisconnected, schema.ConnReconnecting, schema.ConnRotating, schema.ConnClosed} {
		require.NoError(t, m.Add(ctx, state(schema.VenueOKX, schema.ConnConnected)))
		require.NoError(t, m.Add(ctx, quote(schema.VenueOKX, "100.2", "100.3")))
		require.Equal(t, schema.VenueOKX, sink.last(t).BestBidVenue)
		require.NoError(t, m.Add(ctx, state(schema.VenueOKX, st)))
		v := sink.last(t)
		assert.Equal(t, schema.VenueBinance, v.BestBidVenue, "okx left the view on %s", st)
		assert.Equal(t, schema.VenueBinance, v.BestAskVenue, "okx left the view on %s", st)
		assert.Equal(t, []schema.Venue{schema.VenueOKX}, v.Missing)
	}
	// A quote of a venue not connected is refused.
	refused := m.Stats().Refused
	require.NoError(t, m.Add(ctx, quote(schema.VenueOKX, "100.25", "100.3")))
	assert.Equal(t, refused+1, m.Stats().Refused)
	assert.Equal(t, schema.VenueBinance, sink.last(t).BestBidVenue)

	// A gap marker (a lost book) takes the venue out too.
	require.NoError(t, m.Add(ctx, state(schema.VenueOKX, schema.ConnConnected)))
	require.NoError(t, m.Add(ctx, quote(schema.VenueOKX, "100.2", "100.3")))
	require.NoError(t, m.Add(ctx, &schema.CanonicalEvent{Venue: schema.VenueOKX, Symbol: "BTC-USDT", Type: schema.EventGap,
		IngestTS: now.UnixNano(), Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate}}))
	assert.Equal(t, schema.VenueBinance, sink.last(t).BestBidVenue, "a gap marker removes the venue's quote")

	// Staleness: Options.Staleness defaults to 5 s; Tick expires the quote.
	require.NoError(t, m.Add(ctx, quote(schema.VenueOKX, "100.2", "100.3")))
	assert.Equal(t, schema.VenueOKX, sink.last(t).BestBidVenue)
	now = now.Add(merge.DefaultStaleness + time.Second)
	require.NoError(t, m.Add(ctx, quote(schema.VenueBinance, "100.1", "100.4")))
	require.NoError(t, m.Tick(ctx))
	assert.Equal(t, schema.VenueBinance, sink.last(t).BestBidVenue, "okx's quote, 6 s old, has left")
	assert.NotZero(t, m.Stats().Expired)
	require.NoError(t, pools.Shutdown(ctx))
}

// Windowed: a window "closes Options.Window (10 s) of event time later, or
// when it holds Options.MaxEvents (1000) fragments"; "An event the open
// window already holds — same venue, same non-zero sequence [...] — is not
// taken twice (Stats.Duplicates)"; one "older than the end of the last
// closed window is late: dropped and counted (Stats.LateDropped, and
// MergedEvent.LateDropped of the next window)"; a window some expected
// venue sent nothing to is flagged (Complete false, Missing names it).
func TestDocWindowed(t *testing.T) {
	pools := schema.NewPools(nil)
	sink := &keepSink{pools: pools}
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX},
		Sink: sink, Merged: pools.Merged, MaxEvents: 3})
	require.NoError(t, err)
	ctx := context.Background()
	sec := int64(time.Second)
	tr := func(v schema.Venue, seq uint64, at int64) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventTrade, SeqProvider: seq, ExchangeTS: at,
			Trade: schema.Trade{Price: schema.MustParseDecimal("100"), Qty: schema.MustParseDecimal("1")}}
	}
	require.NoError(t, m.Add(ctx, tr(schema.VenueBinance, 1, 100*sec)))
	require.NoError(t, m.Add(ctx, tr(schema.VenueBinance, 1, 100*sec))) // a rotation's overlap
	assert.Equal(t, uint64(1), m.Stats().Duplicates)
	require.NoError(t, m.Add(ctx, tr(schema.VenueBinance, 2, 101*sec)))
	require.NoError(t, m.Add(ctx, tr(schema.VenueBinance, 3, 102*sec)))
	require.Len(t, sink.got, 1, "MaxEvents (3) fragments close the window")
	w := sink.got[0]
	// "then at the time of its latest fragment, whose same-time fragments
	// open the next window": [100 s, 102 s) holds two, the third opens the next.
	assert.Len(t, w.Fragments, 2)
	assert.Equal(t, [2]int64{100 * sec, 102 * sec}, [2]int64{w.WindowOpen, w.WindowClose})
	assert.False(t, w.Complete)
	assert.Equal(t, []schema.Venue{schema.VenueOKX}, w.Missing)
	assert.Equal(t, schema.EventTrade, w.Type, "trades by default")

	require.NoError(t, m.Add(ctx, tr(schema.VenueOKX, 7, 50*sec))) // before the closed window's end
	assert.Equal(t, uint64(1), m.Stats().LateDropped)

	require.NoError(t, m.Add(ctx, tr(schema.VenueOKX, 8, 103*sec)))
	require.NoError(t, m.Add(ctx, tr(schema.VenueBinance, 4, 102*sec+int64(merge.DefaultWindow)))) // 10 s after its first: the window closes
	require.Len(t, sink.got, 2)
	w = sink.got[1]
	assert.Equal(t, [2]int64{102 * sec, 112 * sec}, [2]int64{w.WindowOpen, w.WindowClose})
	assert.Len(t, w.Fragments, 2)
	assert.True(t, w.Complete, "both venues sent to it")
	assert.Equal(t, uint64(1), w.LateDropped, "the late fragment is counted in the next window")
	require.NoError(t, m.Flush(ctx))
	require.NoError(t, pools.Shutdown(ctx))
}

// "when all MaxEvents fragments share one time, it closes 1 ns after it, so
// that further fragments of that very time are late."
func TestDocWindowedAllAtOneTime(t *testing.T) {
	pools := schema.NewPools(nil)
	sink := &keepSink{pools: pools}
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance},
		Sink: sink, Merged: pools.Merged, MaxEvents: 3})
	require.NoError(t, err)
	ctx := context.Background()
	at := int64(100 * time.Second)
	for seq := uint64(1); seq <= 4; seq++ {
		require.NoError(t, m.Add(ctx, &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade, SeqProvider: seq, ExchangeTS: at}))
	}
	require.Len(t, sink.got, 1)
	assert.Len(t, sink.got[0].Fragments, 3)
	assert.Equal(t, [2]int64{at, at + 1}, [2]int64{sink.got[0].WindowOpen, sink.got[0].WindowClose})
	assert.Equal(t, uint64(1), m.Stats().LateDropped, "the fourth trade of the same nanosecond")
	require.NoError(t, pools.Shutdown(ctx))
}
