package meltica_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// dispatch/doc.go, Ordered lane: "A published marker is never dropped: one
// at the front of a full lane becomes its stream's waiting marker ... and
// its source"; a subscriber "always hears of a gap before it sees the
// stream continue". Binance spot depth diffs chain by U = previous u + 1
// ("How to manage a local order book correctly"); the venue skips ids
// twice (the parser's gap markers, GapSource venue), and the subscriber,
// held still with an OrderedBound of 4, drops most diffs too. Once
// released: diffs in order, every hole in the ids covered by a marker
// delivered before the diff after it, and both venue losses still told
// (a marker of source venue, or one that absorbed it, before the diff
// after each).
func TestS25ctVenueGapMarkerSurvivesAFullLane(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	hold := make(chan struct{})
	type got struct {
		typ         schema.EventType
		first, last uint64
		source      schema.GapSource
		count       uint64
	}
	var mu sync.Mutex
	var evs []got
	sub, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBookUpdate}}, &dispatch.SubscribeOptions{OrderedBound: 4, Handler: func(ev *schema.CanonicalEvent) {
		<-hold
		mu.Lock()
		defer mu.Unlock()
		if ev.Type == schema.EventGap {
			evs = append(evs, got{ev.Type, ev.Control.GapFirstSeq, ev.Control.GapLastSeq, ev.Control.GapSource, ev.Control.GapCount})
		} else {
			evs = append(evs, got{ev.Type, ev.Book.FirstSeq, ev.Book.LastSeq, 0, 0})
		}
	}})
	require.NoError(t, err)
	p := normalize.NewBinance(pools.Events, d, nil)
	u := uint64(1000)
	venueHoles := map[uint64]bool{} // first id of the diff after a venue skip
	for i := range 200 {
		first := u + 1
		if i == 50 || i == 150 {
			first += 7 // the venue lost 7 ids
			venueHoles[first] = true
		}
		u = first + 2
		msg := fmt.Appendf(nil, `{"e":"depthUpdate","E":1700000000000,"s":"BTCUSDT","U":%d,"u":%d,"b":[["1.00","2.00"]],"a":[["1.01","3.00"]]}`, first, u)
		_ = p.HandleBytes(ctx, msg, int64(i))
	}
	t.Logf("parser: %+v", p.Stats())
	close(hold)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(evs) > 0 && evs[len(evs)-1].typ == schema.EventBookUpdate && evs[len(evs)-1].last == u
	}, time.Minute, time.Millisecond, "the last diff delivered")
	mu.Lock()
	defer mu.Unlock()
	var prev uint64
	told, venueTold := false, false
	for _, e := range evs {
		if e.typ == schema.EventGap {
			told = true
			venueTold = venueTold || e.source == schema.GapVenue
			continue
		}
		if prev != 0 {
			require.Greater(t, e.first, prev, "diffs reordered")
			if e.first != prev+1 {
				assert.True(t, told, "ids %d..%d lost without a marker before the diff from %d", prev+1, e.first-1, e.first)
			}
		}
		for h := range venueHoles {
			if prev < h && h <= e.first && prev != 0 {
				assert.True(t, venueTold, "the venue's loss before id %d was not told as the venue's", h)
			}
		}
		prev, told, venueTold = e.last, false, false
	}
	t.Logf("%d delivered; subscription %+v", len(evs), sub.Stats())
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))
}

// dispatch/doc.go, Routing: "A marker that names no type (GapType
// schema.EventUnknown, as for a whole connection) reaches every
// subscriber of market data of its venue (and of its symbol, when it
// names one), whatever the market data types it filters on", and on the
// coalescing lane it "replaces what those streams have queued". A
// subscriber of trades alone and one of quotes alone (held, a quote
// queued) both get a venue-wide marker; the held one gets the marker and
// not the quote from before it; a subscriber of another venue gets none.
func TestS25ctVenueWideMarkerReachesEveryMarketSubscriber(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	type rec struct {
		mu  sync.Mutex
		evs []schema.EventType
	}
	var trades, quotes, other rec
	hold := make(chan struct{})
	sub := func(r *rec, f dispatch.Filter, held bool) {
		_, err := d.Subscribe(f, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
			if held {
				<-hold
			}
			r.mu.Lock()
			r.evs = append(r.evs, ev.Type)
			r.mu.Unlock()
		}})
		require.NoError(t, err)
	}
	sub(&trades, dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, false)
	sub(&quotes, dispatch.Filter{Types: []schema.EventType{schema.EventBBO}}, true)
	sub(&other, dispatch.Filter{Venues: []schema.Venue{schema.VenueOKX}}, false)
	publish := func(typ schema.EventType, fill func(*schema.CanonicalEvent)) {
		ev, err := pools.Events.Get(ctx)
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", typ
		fill(ev)
		require.NoError(t, d.Publish(ctx, ev))
	}
	for i := range 3 { // the first is in the held handler, the others queue and coalesce
		publish(schema.EventBBO, func(ev *schema.CanonicalEvent) { ev.SeqProvider = uint64(i + 1) })
	}
	publish(schema.EventGap, func(ev *schema.CanonicalEvent) {
		ev.Symbol = ""
		*ev.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: schema.EventUnknown}
	})
	close(hold)
	require.Eventually(t, func() bool {
		trades.mu.Lock()
		defer trades.mu.Unlock()
		quotes.mu.Lock()
		defer quotes.mu.Unlock()
		return len(trades.evs) == 1 && len(quotes.evs) > 0 && quotes.evs[len(quotes.evs)-1] == schema.EventGap
	}, time.Minute, time.Millisecond)
	require.NoError(t, d.Close(ctx))
	assert.Equal(t, []schema.EventType{schema.EventGap}, trades.evs, "the trade subscriber hears of the loss")
	// The quote in the handler when the rest queued, if it got there
	// first, then the marker: never the queued quotes from before it.
	assert.Contains(t, [][]schema.EventType{{schema.EventGap}, {schema.EventBBO, schema.EventGap}}, quotes.evs)
	assert.Empty(t, other.evs, "another venue's subscriber")
	require.NoError(t, pools.Shutdown(ctx))
}
