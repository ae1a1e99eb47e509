package dispatch_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
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

	ctx, cancel := context.WithTimeout(ctx, 60*time.Second) // a deadline for a busy machine
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

// A slow subscriber falls behind: the logger hears it once when it starts
// dropping and once when it has caught up, never per event, and the
// subscriber sees one gap marker, from its own queue, before the stream
// goes on.
func ExampleOptions_logger() {
	pools := schema.NewPools(nil)
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // a stable output for the example
			}
			return a
		},
	}))
	d := dispatch.New(pools.Events, &dispatch.Options{Logger: logger})

	entered, release := make(chan struct{}), make(chan struct{})
	var seen []string
	_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{
		Name:         "strategy",
		OrderedBound: 2,
		Handler: func(ev *schema.CanonicalEvent) {
			if ev.Type == schema.EventGap {
				seen = append(seen, fmt.Sprintf("gap of %d from the %s", ev.Control.GapCount, ev.Control.GapSource))
			} else {
				seen = append(seen, fmt.Sprintf("trade %d", ev.SeqProvider))
			}
			if ev.SeqProvider == 1 {
				close(entered)
				<-release // a strategy that takes its time
			}
		},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for seq := uint64(1); seq <= 6; seq++ {
		ev, _ := pools.Events.Get(ctx)
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventTrade, seq
		_ = d.Publish(ctx, ev)
		if seq == 1 {
			<-entered
		}
	}
	close(release)
	if err := d.Close(ctx); err != nil {
		panic(err)
	}
	fmt.Println(seen)
	// Output:
	// level=WARN msg="dispatch: subscriber too slow, dropping its oldest market data" subscription_id=1 subscriber=strategy ordered_bound=2
	// level=INFO msg="dispatch: subscriber caught up" subscription_id=1 subscriber=strategy dropped=3
	// [trade 1 gap of 3 from the subscriber_queue trade 5 trade 6]
}
