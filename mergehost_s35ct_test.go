package meltica_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/dispatch/merge"
	"github.com/meltica/meltica/schema"
)

// s35ctMergeBehindDispatch is the set-up package merge's doc recommends: a
// continuous Merger of BTC-USDT over Binance and OKX fed by the Handler of
// a dispatch subscription to the symbol's best bid/offers, gap markers and
// connection states; the handler can be held (a host that is slow).
func s35ctMergeBehindDispatch(t *testing.T) (*schema.Pools, *dispatch.Dispatcher, *dispatch.Subscription, *merge.Merger, *s35ctViews, *s35ctClock, *s35ctStalled) {
	t.Helper()
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, &dispatch.Options{Merged: pools.Merged})
	views := &s35ctViews{merged: pools.Merged}
	clock := newS35ctClock()
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX},
		Mode: merge.Continuous, Sink: views, Merged: pools.Merged, Now: clock.Now})
	require.NoError(t, err)
	stalled := newS35ctStalled(func(ev *schema.CanonicalEvent) { _ = m.Add(ctx, ev) })
	sub, err := d.Subscribe(dispatch.Filter{Symbols: []string{"BTC-USDT"}, Types: []schema.EventType{schema.EventBBO, schema.EventGap, schema.EventConnState}},
		&dispatch.SubscribeOptions{Handler: stalled.handle})
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, d.Close(ctx))
		assert.NoError(t, pools.Shutdown(ctx))
	})
	return pools, d, sub, m, views, clock, stalled
}

// A consolidated best bid/offer is never silently stale (merge: "a venue
// leaves the view on any state but connected … It comes back once
// connected again, with its first quote received after the
// reconnection"; the dispatcher: connection states are critical and
// "always delivered before any waiting market data"). Behind a slow
// handler, Binance's last quote from before its connection dropped is
// still queued when the disconnection and the reconnection overtake it;
// delivered after both, it is a quote from before the reconnection, and
// must not come back to the top of the view as Binance's price now.
func TestS35ctMergedViewRefusesAQuoteFromBeforeTheDisconnection(t *testing.T) {
	pools, d, sub, m, views, clock, stalled := s35ctMergeBehindDispatch(t)
	ctx := context.Background()
	pub := func(fill func(*schema.CanonicalEvent)) {
		require.NoError(t, d.Publish(ctx, s35ctEvent(t, pools, fill)))
	}

	pub(s35ctBBO(schema.VenueOKX, "BTC-USDT", "99", "100.5", clock.Now()))
	pub(s35ctBBO(schema.VenueBinance, "BTC-USDT", "100", "101", clock.Now()))
	s35ctIdle(t, sub)
	require.Equal(t, schema.VenueBinance, views.last(t).BestBidVenue)

	clock.advance(100 * time.Millisecond)
	release := stalled.hold(t, d, s35ctEvent(t, pools, s35ctBBO(schema.VenueOKX, "BTC-USDT", "99", "100.5", clock.Now())))
	clock.advance(100 * time.Millisecond)
	pub(s35ctBBO(schema.VenueBinance, "BTC-USDT", "105", "106", clock.Now())) // Binance's last quote before the loss
	clock.advance(100 * time.Millisecond)
	pub(s35ctConn(schema.VenueBinance, schema.ConnDisconnected, clock.Now()))
	clock.advance(100 * time.Millisecond)
	pub(s35ctConn(schema.VenueBinance, schema.ConnConnected, clock.Now()))
	release()
	s35ctIdle(t, sub)

	v := views.last(t)
	assert.NotEqual(t, schema.VenueBinance, v.BestBidVenue,
		"Binance's quote from before its disconnection is back at the top after the reconnection: %+v (merger %+v)", v, m.Stats())
	assert.False(t, v.BestBid.Equal(schema.MustParseDecimal("105")), "the view shows a price from before the loss: %+v", v)
	assert.Contains(t, v.Missing, schema.VenueBinance, "Binance has not quoted since it reconnected")
	assert.NotZero(t, m.Stats().Refused, "the quote from before the reconnection counted refused")

	clock.advance(100 * time.Millisecond)
	pub(s35ctBBO(schema.VenueBinance, "BTC-USDT", "103", "104", clock.Now()))
	s35ctIdle(t, sub)
	v = views.last(t)
	assert.Equal(t, schema.VenueBinance, v.BestBidVenue, "a quote after the reconnection joins: %+v", v)
	assert.True(t, v.BestBid.Equal(schema.MustParseDecimal("103")), "%+v", v)
}
