package meltica_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch/merge"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s27ctViews keeps a copy of every merged event and returns the original.
type s27ctViews struct {
	mu     sync.Mutex
	merged *pool.Pool[*schema.MergedEvent]
	got    []*schema.MergedEvent
}

func (v *s27ctViews) PublishMerged(_ context.Context, m *schema.MergedEvent) error {
	v.mu.Lock()
	v.got = append(v.got, m.Clone())
	v.mu.Unlock()
	v.merged.Put(m)
	return nil
}

func (v *s27ctViews) last(t *testing.T) *schema.MergedEvent {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	require.NotEmpty(t, v.got)
	return v.got[len(v.got)-1]
}

// merge.New with what Options says is required missing ("Symbol, Venues,
// Sink and Merged are required") returns an error, not a Merger that
// panics later. And the consolidated best bid/offer is never silently
// stale, on the injected clock (Options.Now): a venue silent for
// Staleness (default 5 s) leaves the view "at the latest on the next
// Tick", not before; a venue whose connection is anything but connected
// leaves at once; a gap marker about the venue removes its quote; a quote
// already Staleness old when it arrives never joins.
func TestS27ctConsolidatedQuoteIsNeverSilentlyStale(t *testing.T) {
	pools := schema.NewPools(nil)
	views := &s27ctViews{merged: pools.Merged}
	for name, o := range map[string]*merge.Options{
		"nil":       nil,
		"zero":      {},
		"no symbol": {Venues: []schema.Venue{schema.VenueBinance}, Sink: views, Merged: pools.Merged},
		"no venues": {Symbol: "BTC-USDT", Sink: views, Merged: pools.Merged},
		"no sink":   {Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance}, Merged: pools.Merged},
		"no pool":   {Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance}, Sink: views},
	} {
		var err error
		require.NotPanics(t, func() { _, err = merge.New(o) }, name)
		assert.Error(t, err, name)
	}

	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit},
		Mode: merge.Continuous, Sink: views, Merged: pools.Merged, Now: clock})
	require.NoError(t, err)
	quote := func(venue schema.Venue, bid, ask string, at time.Time) {
		ev := &schema.CanonicalEvent{Venue: venue, Symbol: "BTC-USDT", Type: schema.EventBBO, ExchangeTS: at.UnixNano(), IngestTS: at.UnixNano()}
		ev.BBO.BidPrice, ev.BBO.BidQty = schema.MustParseDecimal(bid), schema.MustParseDecimal("1")
		ev.BBO.AskPrice, ev.BBO.AskQty = schema.MustParseDecimal(ask), schema.MustParseDecimal("1")
		require.NoError(t, m.Add(ctx, ev))
	}
	quote(schema.VenueBinance, "100", "101", clock())
	quote(schema.VenueOKX, "99", "100.5", clock())
	quote(schema.VenueBybit, "99.5", "102", clock())
	v := views.last(t)
	assert.Equal(t, schema.VenueBinance, v.BestBidVenue)
	assert.Equal(t, schema.VenueOKX, v.BestAskVenue)

	advance(4 * time.Second)
	quote(schema.VenueOKX, "99", "100.5", clock()) // OKX and Bybit keep quoting
	quote(schema.VenueBybit, "99.5", "102", clock())
	require.NoError(t, m.Tick(ctx))
	assert.Equal(t, schema.VenueBinance, views.last(t).BestBidVenue, "4 s of silence: Binance's bid still counts")
	advance(time.Second + time.Millisecond)
	quote(schema.VenueOKX, "99", "100.5", clock())
	quote(schema.VenueBybit, "99.5", "102", clock())
	require.NoError(t, m.Tick(ctx))
	v = views.last(t)
	assert.Equal(t, schema.VenueBybit, v.BestBidVenue, "Binance silent past Staleness left the view")
	assert.Contains(t, v.Missing, schema.VenueBinance)

	conn := &schema.CanonicalEvent{Venue: schema.VenueOKX, Type: schema.EventConnState, Control: &schema.Control{Kind: schema.ControlConnState, State: schema.ConnReconnecting}}
	require.NoError(t, m.Add(ctx, conn))
	v = views.last(t)
	assert.Equal(t, schema.VenueBybit, v.BestAskVenue, "OKX reconnecting left the view at once")
	assert.Contains(t, v.Missing, schema.VenueOKX)

	gap := &schema.CanonicalEvent{Venue: schema.VenueBybit, Type: schema.EventGap, Control: &schema.Control{Kind: schema.ControlGap}}
	require.NoError(t, m.Add(ctx, gap))
	v = views.last(t)
	assert.Contains(t, v.Missing, schema.VenueBybit, "a gap marker about the venue removed its quote")
	assert.True(t, v.BestBid.IsZero() && v.BestAsk.IsZero(), "no venue left: an empty view, not the last prices: %+v", v)

	quote(schema.VenueBinance, "105", "106", clock().Add(-6*time.Second))
	v = views.last(t)
	assert.NotEqual(t, schema.VenueBinance, v.BestBidVenue, "a quote already stale on arrival never joins")
	quote(schema.VenueBinance, "105", "106", clock())
	assert.Equal(t, schema.VenueBinance, views.last(t).BestBidVenue, "a fresh quote joins")
	assert.Zero(t, pools.Merged.Stats().InUse)
	require.NoError(t, pools.Shutdown(ctx))
}
