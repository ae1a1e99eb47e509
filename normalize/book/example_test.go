package book_test

import (
	"context"
	"fmt"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
)

// A Bybit book fed its snapshot and deltas: a delta that skips an update id
// clears the book and publishes a gap marker, and a best bid/offer with
// neither side (the broken book's quote withdrawn); the next snapshot
// brings it back.
func Example() {
	pools := schema.NewPools(nil)
	ctx := context.Background()
	sink := normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		switch ev.Type {
		case schema.EventBBO:
			fmt.Printf("bbo %s %s / %s %s\n", ev.BBO.BidPrice, ev.BBO.BidQty, ev.BBO.AskPrice, ev.BBO.AskQty)
		case schema.EventGap:
			fmt.Printf("gap %s %s: %s\n", ev.Venue, ev.Symbol, ev.Control.Reason)
		}
		pools.Events.Put(ev)
		return nil
	})
	b, err := book.NewBook(book.Bybit, "BTC-USDT", &book.Options{
		Sink: sink, Events: pools.Events,
		Resubscribe: func(_ context.Context, v schema.Venue, s string) error {
			fmt.Println("resubscribe", v, s)
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	lv := func(p, q string) schema.Level {
		return schema.Level{Price: schema.MustParseDecimal(p), Qty: schema.MustParseDecimal(q)}
	}
	ev := func(typ schema.EventType, u uint64, bids, asks []schema.Level) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Venue: schema.VenueBybit, Symbol: "BTC-USDT", Type: typ,
			Book: schema.Book{LastSeq: u, Bids: bids, Asks: asks}}
	}
	snap := ev(schema.EventBookSnapshot, 100, []schema.Level{lv("100.0", "1"), lv("99.5", "2")}, []schema.Level{lv("100.5", "3")})
	_ = b.Apply(ctx, snap)
	_ = b.Apply(ctx, ev(schema.EventBookUpdate, 101, []schema.Level{lv("100.0", "0")}, nil)) // qty 0 deletes
	_ = b.Apply(ctx, ev(schema.EventBookUpdate, 103, nil, []schema.Level{lv("100.5", "1")})) // 102 is missing
	fmt.Println("live:", b.Live())
	_ = b.Apply(ctx, snap)
	fmt.Println("live:", b.Live())
	// Output:
	// bbo 100.0 1 / 100.5 3
	// bbo 99.5 2 / 100.5 3
	// gap bybit BTC-USDT: book: sequence gap
	// bbo 0 0 / 0 0
	// resubscribe bybit BTC-USDT
	// live: false
	// bbo 100.0 1 / 100.5 3
	// live: true
}
