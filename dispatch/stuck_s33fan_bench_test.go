package dispatch

import (
	"context"
	"fmt"
	"testing"

	"github.com/meltica/meltica/schema"
)

// BenchmarkS33fanStuckPublish publishes to 16 subscribers held still in
// their handler, whose queues are full: OrderedBound ordered events, a
// coalescing slot per stream and a waiting gap marker per stream, depth
// each (10 or 1,000 streams, OrderedBound the same). Each op publishes
// a trade (which drops the oldest queued one into its stream's marker)
// and a best bid/offer (which replaces its stream's queued one in place),
// round-robin over the streams, as TestS25ctStuckSubscribersMemoryIsBounded
// (root package) does with 500. A Publish that scanned a queue would cost
// ~100 times more at depth 1,000 than at 10; an O(1) one about the same.
func BenchmarkS33fanStuckPublish(b *testing.B) {
	for _, depth := range []int{10, 1000} {
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			p := newEventPool(64)
			d := New(p, nil)
			release := make(chan struct{})
			syms := make([]string, depth)
			for i := range syms {
				syms[i] = fmt.Sprintf("S%d-USDT", i)
			}
			for range 16 {
				_, err := d.Subscribe(Filter{}, &SubscribeOptions{OrderedBound: depth, Handler: func(*schema.CanonicalEvent) { <-release }})
				if err != nil {
					b.Fatal(err)
				}
			}
			ctx := context.Background()
			seq := uint64(0)
			publish := func(typ schema.EventType, sym string) {
				seq++
				ev, err := p.TryGet()
				if err != nil {
					b.Fatal(err)
				}
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, sym, typ, seq
				if err := d.Publish(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
			round := func() {
				for _, sym := range syms {
					publish(schema.EventTrade, sym)
					publish(schema.EventBBO, sym)
				}
			}
			// Fill every queue: the ordered lanes to their bound, a slot
			// and (after the second round's drops) a marker per stream.
			round()
			round()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				sym := syms[i%depth]
				publish(schema.EventTrade, sym)
				publish(schema.EventBBO, sym)
			}
			b.StopTimer()
			close(release)
			closeDispatcher(b, d)
		})
	}
}

// BenchmarkS33fanCoalesceInPlace publishes best bid/offers of one stream
// to 16 subscribers held still: each finds the stream's quote still
// queued and replaces it in place (copyInto), the coalescing lane's
// per-subscriber cost while a subscriber lags. allocs/op is 0.
func BenchmarkS33fanCoalesceInPlace(b *testing.B) {
	p := newEventPool(64)
	d := New(p, nil)
	release := make(chan struct{})
	for range 16 {
		if _, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) { <-release }}); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	publish := func(i int) {
		ev, err := p.TryGet()
		if err != nil {
			b.Fatal(err)
		}
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventBBO, uint64(i)
		ev.BBO.BidPrice, ev.BBO.AskPrice = schema.NewDecimal(int64(6500000+i), 2), schema.NewDecimal(int64(6500100+i), 2)
		if err := d.Publish(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	publish(0) // in hand: each handler holds it
	publish(1) // queued: replaced from now on
	b.ReportAllocs()
	for i := 2; b.Loop(); i++ {
		publish(i)
	}
	b.StopTimer()
	close(release)
	closeDispatcher(b, d)
}
