package dispatch

import (
	"context"
	"fmt"
	"testing"

	"github.com/meltica/meltica/schema"
)

// BenchmarkPublish publishes one event to 0, 1, 4 and 16 subscribers with
// an empty handler: a trade (ordered lane), a best bid/offer (coalescing
// lane) and a 20-level book diff with 512 raw bytes. allocs/op is 1 for
// any number of subscribers: their clones share one slab, payload
// included. A coalescable event that replaces one still queued is copied
// in place, so bbo may show fewer when the subscribers lag behind.
func BenchmarkPublish(b *testing.B) {
	kinds := []struct {
		name string
		fill func(*schema.CanonicalEvent)
	}{
		{"trade", func(ev *schema.CanonicalEvent) { ev.Type = schema.EventTrade }},
		{"bbo", func(ev *schema.CanonicalEvent) { ev.Type = schema.EventBBO }},
		{"book20+raw512", fillBook},
	}
	for _, kind := range kinds {
		for _, n := range []int{0, 1, 4, 16} {
			b.Run(fmt.Sprintf("%s/subs=%d", kind.name, n), func(b *testing.B) {
				p := newEventPool(64)
				d := New(p, nil)
				for range n {
					if _, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}}); err != nil {
						b.Fatal(err)
					}
				}
				ctx := context.Background()
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					ev, err := p.TryGet()
					if err != nil {
						b.Fatal(err)
					}
					ev.Venue, ev.Symbol, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", uint64(i)
					kind.fill(ev)
					if err := d.Publish(ctx, ev); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				closeDispatcher(b, d)
			})
		}
	}
}

func fillBook(ev *schema.CanonicalEvent) {
	ev.Type = schema.EventBookUpdate
	lv := schema.Level{Price: schema.NewDecimal(6500012, 2), Qty: schema.NewDecimal(15, 3)}
	for range 10 {
		ev.Book.Bids = append(ev.Book.Bids, lv)
		ev.Book.Asks = append(ev.Book.Asks, lv)
	}
	for range 512 / 8 {
		ev.Raw = append(ev.Raw, `"12.5",`...)
	}
}

// BenchmarkClone compares the dispatcher's one-allocation clone with
// schema's Clone, side by side.
func BenchmarkClone(b *testing.B) {
	fns := []struct {
		name  string
		clone func(*schema.CanonicalEvent) *schema.CanonicalEvent
	}{
		{"dispatch", cloneEvent},
		{"schema", (*schema.CanonicalEvent).Clone},
	}
	events := []struct {
		name string
		ev   *schema.CanonicalEvent
	}{
		{"bbo", &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventBBO}},
		{"book20+raw512", func() *schema.CanonicalEvent { ev := new(schema.CanonicalEvent); fillBook(ev); return ev }()},
	}
	for _, e := range events {
		for _, f := range fns {
			b.Run(e.name+"/"+f.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_ = f.clone(e.ev)
				}
			})
		}
	}
}
