package dispatch_test

// Review s23, from the package documentation and the exported API only.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// A gap marker that names no stream type (GapType EventUnknown: Coinbase
// Advanced Trade's marker for a whole connection, say) says that any
// stream of its venue — of its symbol, when it names one — may have lost
// events. A subscriber that filters by type (book diffs only) must still
// hear it: "a strategy never trades on a book it does not know is
// broken". A subscriber of another venue, or of another symbol when the
// marker names one, does not.
func TestS23MarkerOfNoTypeReachesTypeFilteredSubscribers(t *testing.T) {
	t.Parallel()
	const venue = schema.VenueCoinbase
	p := adv3Pool(64)
	d := dispatch.New(p, nil)
	defer adv3Close(t, d)
	sub := func(f dispatch.Filter) *dispatch.Subscription {
		s, err := d.Subscribe(f, nil)
		require.NoError(t, err)
		return s
	}
	books := sub(dispatch.Filter{Venues: []schema.Venue{venue}, Types: []schema.EventType{schema.EventBookUpdate}})
	btcBooks := sub(dispatch.Filter{Symbols: []string{"BTC-USD"}, Types: []schema.EventType{schema.EventBookUpdate, schema.EventTrade}})
	ethTrades := sub(dispatch.Filter{Symbols: []string{"ETH-USD"}, Types: []schema.EventType{schema.EventTrade}})
	other := sub(dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}, Types: []schema.EventType{schema.EventBookUpdate}})
	gaps := sub(dispatch.Filter{Types: []schema.EventType{schema.EventGap}})
	// Execution reports and account updates are not market data: a
	// marker naming no type is not about them.
	execs := sub(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport, schema.EventBalance}})

	recv := func(s *dispatch.Subscription) *schema.CanonicalEvent {
		t.Helper()
		select {
		case ev := <-s.C():
			return ev
		case <-time.After(20 * time.Second):
			t.Fatal("nothing delivered")
			return nil
		}
	}
	// The whole connection: every subscriber of the venue hears it.
	adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Type = venue, schema.EventGap
		ev.Control = schema.Control{Kind: schema.ControlGap, GapSource: schema.GapVenue}
	})
	for _, s := range []*dispatch.Subscription{books, btcBooks, ethTrades, gaps} {
		ev := recv(s)
		require.Equal(t, schema.EventGap, ev.Type)
		require.Equal(t, venue, ev.Venue)
	}
	// One symbol, every type: its subscribers hear it, ETH's do not.
	adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = venue, "BTC-USD", schema.EventGap
		ev.Control = schema.Control{Kind: schema.ControlGap, GapSource: schema.GapVenue}
	})
	for _, s := range []*dispatch.Subscription{books, btcBooks, gaps} {
		ev := recv(s)
		require.Equal(t, "BTC-USD", ev.Symbol)
	}
	// A later event proves the others got nothing in between.
	adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = venue, "ETH-USD", schema.EventTrade
	})
	require.Equal(t, schema.EventTrade, recv(ethTrades).Type)
	adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTCUSDT", schema.EventBookUpdate
	})
	require.Equal(t, schema.EventBookUpdate, recv(other).Type)
	adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = venue, "BTC-USD", schema.EventExecReport
	})
	require.Equal(t, schema.EventExecReport, recv(execs).Type)
	for _, s := range []*dispatch.Subscription{books, btcBooks, ethTrades, other, gaps, execs} {
		require.NoError(t, d.Unsubscribe(s))
	}
}
