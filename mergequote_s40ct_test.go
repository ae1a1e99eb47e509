package meltica_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch/merge"
	"github.com/meltica/meltica/schema"
)

// s40ctQuoting is a continuous Merger of BTC-USDT over Binance and OKX
// (Staleness 5 s) on an injected clock.
type s40ctQuoting struct {
	t     *testing.T
	m     *merge.Merger
	views *s35ctViews
	clock *s35ctClock
	price int
}

func newS40ctQuoting(t *testing.T) *s40ctQuoting {
	pools := schema.NewPools(nil)
	q := &s40ctQuoting{t: t, views: &s35ctViews{merged: pools.Merged}, clock: newS35ctClock(), price: 100}
	var err error
	q.m, err = merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX},
		Mode: merge.Continuous, Staleness: 5 * time.Second, Sink: q.views, Merged: pools.Merged, Now: q.clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, pools.Shutdown(context.Background())) })
	return q
}

// quote adds a best bid/offer of venue stamped exTS and inTS (Unix ns, 0
// not set), a new price each time.
func (q *s40ctQuoting) quote(venue schema.Venue, exTS, inTS int64) {
	q.t.Helper()
	q.price++
	ev := &schema.CanonicalEvent{Venue: venue, Symbol: "BTC-USDT", Type: schema.EventBBO, ExchangeTS: exTS, IngestTS: inTS}
	ev.BBO.BidPrice, ev.BBO.BidQty = schema.NewDecimal(int64(q.price), 0), schema.MustParseDecimal("1")
	ev.BBO.AskPrice, ev.BBO.AskQty = schema.NewDecimal(int64(q.price+1000), 0), schema.MustParseDecimal("1")
	require.NoError(q.t, q.m.Add(context.Background(), ev))
}

// in says whether venue quotes in the latest view after a Tick.
func (q *s40ctQuoting) in(venue schema.Venue) bool {
	q.t.Helper()
	require.NoError(q.t, q.m.Tick(context.Background()))
	all := q.views.all()
	if len(all) == 0 {
		return false
	}
	for _, f := range all[len(all)-1].Fragments {
		if f.Venue == venue {
			return true
		}
	}
	return false
}

func (q *s40ctQuoting) now() int64 { return q.clock.Now().UnixNano() }

// TestS40ctConsolidatedQuoteAgeCountsFromItsEarliestStamp: package merge,
// Options.Staleness: "A quote's age counts from the earliest of its
// ExchangeTS (the venue's time of it), its IngestTS (when it came off the
// wire) and its receipt by Add, those not set (0) left out, on the clock
// Now ... A timestamp after Now (a venue clock ahead of the host's)
// counts as its receipt: a quote is never younger than that; so does one
// more than Staleness + 1 min before Now, taken for another clock's";
// "a venue that goes silent leaves the consolidated best bid/offer then,
// at the latest on the next Tick".
func TestS40ctConsolidatedQuoteAgeCountsFromItsEarliestStamp(t *testing.T) {
	t.Run("the venue's time, earlier than the wire's", func(t *testing.T) {
		q := newS40ctQuoting(t)
		q.quote(schema.VenueBinance, q.now()-int64(3*time.Second), q.now()-int64(time.Second))
		q.clock.advance(2*time.Second - time.Millisecond)
		assert.True(t, q.in(schema.VenueBinance), "4.999 s old: in")
		q.clock.advance(2 * time.Millisecond)
		assert.False(t, q.in(schema.VenueBinance), "5.001 s old by its ExchangeTS: out")
	})
	t.Run("the wire's time, earlier than the venue's", func(t *testing.T) {
		q := newS40ctQuoting(t)
		q.quote(schema.VenueBinance, q.now()-int64(time.Second), q.now()-int64(4*time.Second))
		q.clock.advance(time.Second - time.Millisecond)
		assert.True(t, q.in(schema.VenueBinance), "4.999 s old: in")
		q.clock.advance(2 * time.Millisecond)
		assert.False(t, q.in(schema.VenueBinance), "5.001 s old by its IngestTS: out")
	})
	t.Run("a venue clock ahead counts as the receipt", func(t *testing.T) {
		q := newS40ctQuoting(t)
		q.quote(schema.VenueOKX, q.now()+int64(10*time.Second), 0)
		q.clock.advance(5*time.Second - time.Millisecond)
		assert.True(t, q.in(schema.VenueOKX), "4.999 s after its receipt: in")
		q.clock.advance(2 * time.Millisecond)
		assert.False(t, q.in(schema.VenueOKX), "5.001 s after its receipt, never younger than that: out")
	})
	t.Run("another clock's time counts as the receipt", func(t *testing.T) {
		q := newS40ctQuoting(t)
		q.quote(schema.VenueOKX, q.now()-int64(5*time.Second+time.Minute+time.Second), 0)
		assert.True(t, q.in(schema.VenueOKX), "more than Staleness + 1 min before Now: another clock's, fresh on receipt")
		q.clock.advance(5*time.Second - time.Millisecond)
		assert.True(t, q.in(schema.VenueOKX), "4.999 s after its receipt: in")
		q.clock.advance(2 * time.Millisecond)
		assert.False(t, q.in(schema.VenueOKX), "5.001 s after its receipt: out")
	})
	t.Run("stale on arrival never joins", func(t *testing.T) {
		q := newS40ctQuoting(t)
		q.quote(schema.VenueBinance, q.now(), q.now())
		q.quote(schema.VenueOKX, q.now()-int64(5*time.Second+time.Millisecond), q.now())
		assert.True(t, q.in(schema.VenueBinance))
		assert.False(t, q.in(schema.VenueOKX), "5.001 s old when it arrives: never joins")
	})
}

// TestS40ctConsolidatedQuoteLeavesOnTheMarkersThatMayHaveCostIt: package
// merge, Continuous: a venue leaves the view when its quote "may be lost
// (a gap marker about the whole venue, or about the symbol's best
// bid/offer, its book, or all its streams: GapType schema.EventUnknown)
// ... It comes back once connected again, with its first quote received
// after the reconnection (or after the gap marker, by IngestTS ...
// quotes still queued from before it ... are refused, counted in
// Stats.Refused)". A marker about the symbol's trades, or about another
// symbol, cost it no quote.
func TestS40ctConsolidatedQuoteLeavesOnTheMarkersThatMayHaveCostIt(t *testing.T) {
	cases := []struct {
		name    string
		symbol  string
		gapType schema.EventType
		depth   int
		leaves  bool
	}{
		{"the whole venue", "", schema.EventUnknown, 0, true},
		{"every stream of the symbol", "BTC-USDT", schema.EventUnknown, 0, true},
		{"the symbol's best bid/offer", "BTC-USDT", schema.EventBBO, 0, true},
		{"the symbol's book diffs", "BTC-USDT", schema.EventBookUpdate, 0, true},
		{"the symbol's book tops of 5", "BTC-USDT", schema.EventBookSnapshot, 5, true},
		{"the symbol's trades", "BTC-USDT", schema.EventTrade, 0, false},
		{"another symbol's book", "ETH-USDT", schema.EventBookUpdate, 0, false},
		{"another symbol, every stream", "ETH-USDT", schema.EventUnknown, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := newS40ctQuoting(t)
			q.quote(schema.VenueBinance, q.now(), q.now())
			q.quote(schema.VenueOKX, q.now(), q.now())
			require.True(t, q.in(schema.VenueOKX))
			queued := q.now() // a quote stamped now, still queued behind the marker
			q.clock.advance(time.Millisecond)
			gap := &schema.CanonicalEvent{Venue: schema.VenueOKX, Symbol: tc.symbol, Type: schema.EventGap, IngestTS: q.now()}
			gap.Control = &schema.Control{Kind: schema.ControlGap, GapType: tc.gapType, GapSource: schema.GapVenue}
			gap.Book.Depth = tc.depth
			require.NoError(t, q.m.Add(context.Background(), gap))
			if !tc.leaves {
				assert.True(t, q.in(schema.VenueOKX), "a marker that cost it no quote keeps it: %+v", q.m.Stats())
				return
			}
			assert.False(t, q.in(schema.VenueOKX), "the marker took OKX's quote out")
			assert.True(t, q.in(schema.VenueBinance), "Binance's stays")
			refused := q.m.Stats().Refused
			q.quote(schema.VenueOKX, queued, queued)
			assert.False(t, q.in(schema.VenueOKX), "a quote from before the marker is refused")
			assert.Equal(t, refused+1, q.m.Stats().Refused, "and counted: %+v", q.m.Stats())
			q.clock.advance(time.Millisecond)
			q.quote(schema.VenueOKX, q.now(), q.now())
			assert.True(t, q.in(schema.VenueOKX), "its first quote after the marker brings it back")
		})
	}
}
