package dispatch_test

import (
	"context"
	"fmt"
	"time"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// A strategy subscribes to BTC-USDT on Binance and reads its events from a
// channel. The feed publishes pooled events; the dispatcher hands out
// clones and returns every original to the pool.
func Example() {
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)

	sub, err := d.Subscribe(dispatch.Filter{
		Venues:  []schema.Venue{schema.VenueBinance},
		Symbols: []string{"BTC-USDT"},
	}, nil)
	if err != nil {
		panic(err)
	}
	done := make(chan struct{})
	var trades, execs int
	var bid schema.Decimal
	go func() {
		defer close(done)
		for ev := range sub.C() { // closed once Close has delivered everything
			switch ev.Type {
			case schema.EventTrade:
				trades++
			case schema.EventBBO: // latest wins: a slow reader may skip some
				bid = ev.BBO.BidPrice
			case schema.EventExecReport:
				execs++
			}
		}
	}()

	ctx := context.Background()
	for i, typ := range []schema.EventType{schema.EventTrade, schema.EventBBO, schema.EventExecReport, schema.EventBBO, schema.EventTrade} {
		ev, err := pools.Events.Get(ctx)
		if err != nil {
			panic(err)
		}
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", typ
		ev.BBO.BidPrice = schema.NewDecimal(int64(65000+i), 0)
		if err := d.Publish(ctx, ev); err != nil { // ev is the dispatcher's now
			panic(err)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		panic(err)
	}
	<-done
	fmt.Println("trades:", trades, "exec reports:", execs, "last bid:", bid)
	fmt.Println("events still checked out:", pools.Events.Stats().InUse)
	// Output:
	// trades: 2 exec reports: 1 last bid: 65003
	// events still checked out: 0
}

// Publishing a subscriber's clone back is refused: only pooled originals
// are the dispatcher's to return.
func ExampleDispatcher_Publish_clone() {
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	defer func() { _ = d.Close(context.Background()) }()

	ev, _ := pools.Events.Get(context.Background())
	ev.Venue, ev.Symbol, ev.Type = schema.VenueOKX, "ETH-USDT", schema.EventTrade
	clone := ev.Clone()
	pools.Events.Put(ev)

	err := d.Publish(context.Background(), clone)
	fmt.Println(err)
	// Output:
	// dispatch: Publish of a trade event (okx ETH-USDT) that is not checked out of the dispatcher's pool: a subscriber's heap clone, an event made with new, one already returned, or another pool's; publish only originals taken from the dispatcher's events pool
}
