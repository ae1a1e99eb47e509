package merge_test

import (
	"context"
	"fmt"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/dispatch/merge"
	"github.com/meltica/meltica/schema"
)

// The consolidated best bid/offer of BTC-USDT across Binance and OKX,
// published on the dispatcher's MergedEvent lane.
func Example() {
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, &dispatch.Options{Merged: pools.Merged})
	sub, _ := d.SubscribeMerged(dispatch.MergedFilter{Symbols: []string{"BTC-USDT"}}, nil)
	m, err := merge.New(&merge.Options{
		Symbol: "BTC-USDT",
		Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX},
		Mode:   merge.Continuous,
		Sink:   d, Merged: pools.Merged,
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	quote := func(v schema.Venue, bid, ask string) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventBBO, BBO: schema.BBO{
			BidPrice: schema.MustParseDecimal(bid), BidQty: schema.MustParseDecimal("1"),
			AskPrice: schema.MustParseDecimal(ask), AskQty: schema.MustParseDecimal("1"),
		}}
	}
	_ = m.Add(ctx, quote(schema.VenueBinance, "100.1", "100.4"))
	c := <-sub.C()
	fmt.Println(c.BestBid, c.BestBidVenue, c.BestAsk, c.BestAskVenue, "missing", c.Missing)
	_ = m.Add(ctx, quote(schema.VenueOKX, "100.2", "100.6"))
	c = <-sub.C()
	fmt.Println(c.BestBid, c.BestBidVenue, c.BestAsk, c.BestAskVenue, "complete", c.Complete)
	_ = d.Close(ctx)
	// Output:
	// 100.1 binance 100.4 binance missing [okx]
	// 100.2 okx 100.4 binance complete true
}
