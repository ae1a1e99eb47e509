package merge_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch/merge"
	"github.com/meltica/meltica/schema"
)

// A venue's one-sided quote (schema.BBO: a side with no order has a zero
// price and quantity, as a book publishes a side its venue emptied) is no
// quote of 0 in the consolidated view: a venue with no ask never makes
// the best ask 0, a venue with no bid is never the best bid, and with no
// venue bidding BestBid, BestBidQty and BestBidVenue are all zero — the
// "no bid" schema.MergedEvent documents, never a price.
func TestS46ctMergedOneSidedQuotes(t *testing.T) {
	pools := schema.NewPools(nil)
	sink := &keepSink{pools: pools} // doc_claims_test.go
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Mode: merge.Continuous,
		Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX}, Sink: sink, Merged: pools.Merged})
	require.NoError(t, err)
	ctx := context.Background()
	d := schema.MustParseDecimal
	quote := func(v schema.Venue, bid, bidQty, ask, askQty string) {
		t.Helper()
		require.NoError(t, m.Add(ctx, &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventBBO,
			BBO: schema.BBO{BidPrice: d(bid), BidQty: d(bidQty), AskPrice: d(ask), AskQty: d(askQty)}}))
	}

	quote(schema.VenueBinance, "100", "1", "0", "0") // Binance: no ask
	quote(schema.VenueOKX, "0", "0", "101", "2")     // OKX: no bid
	v := sink.last(t)
	require.Equal(t, "100", v.BestBid.String())
	require.Equal(t, schema.VenueBinance, v.BestBidVenue)
	require.Equal(t, "101", v.BestAsk.String(), "a venue's empty ask side is not an ask at 0")
	require.Equal(t, schema.VenueOKX, v.BestAskVenue)
	require.True(t, v.Complete, "both venues quote, one side each: %+v", v)

	quote(schema.VenueBinance, "0", "0", "0", "0") // Binance withdraws its quote
	v = sink.last(t)
	require.True(t, v.BestBid.IsZero() && v.BestBidQty.IsZero(), "no venue bids: %+v", v)
	require.Empty(t, v.BestBidVenue, "no venue bids")
	require.Equal(t, "101", v.BestAsk.String())
	require.Contains(t, v.Missing, schema.VenueBinance, "a venue quoting neither side is missing")
	require.NoError(t, pools.Shutdown(ctx))
}
