package dispatch

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

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

// BenchmarkSlab is the memory floor of a fan-out: the clones of one trade
// for n subscribers (one slab, each clone written), with no queue and no
// delivery. The clones of the last 64 publishes are kept alive, as queued
// events would be. cpu-ns/op is CPU time per publish over all threads,
// garbage collector included; BenchmarkPaced and the benchmarks module's
// Fanout minus this is what queueing and delivery cost.
func BenchmarkSlab(b *testing.B) {
	for _, n := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			src := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade, SeqProvider: 1}
			src.Trade.Price, src.Trade.Qty = schema.NewDecimal(6500012, 2), schema.NewDecimal(15, 3)
			const kept = 64
			live := make([]*schema.CanonicalEvent, kept*n)
			b.ReportAllocs()
			cpu0 := cpuTime()
			for i := 0; b.Loop(); i++ {
				cl := newClones(src, n)
				for j := range n {
					live[(i%kept)*n+j] = cl.take()
					cl.next()
				}
			}
			reportCPU(b, cpu0)
		})
	}
}

// BenchmarkPaced publishes one trade to n subscribers and waits until
// every handler has run before the next: each publish finds the
// subscribers parked and wakes them, as a feed slower than its
// subscribers does. cpu-ns/op is CPU time per publish over all threads.
func BenchmarkPaced(b *testing.B) {
	for _, n := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			p := newEventPool(64)
			d := New(p, nil)
			var wg sync.WaitGroup
			for range n {
				if _, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) { wg.Done() }}); err != nil {
					b.Fatal(err)
				}
			}
			ctx := context.Background()
			b.ReportAllocs()
			cpu0 := cpuTime()
			for i := 0; b.Loop(); i++ {
				ev, err := p.TryGet()
				if err != nil {
					b.Fatal(err)
				}
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventTrade, uint64(i)
				wg.Add(n)
				if err := d.Publish(ctx, ev); err != nil {
					b.Fatal(err)
				}
				wg.Wait()
			}
			reportCPU(b, cpu0)
			b.StopTimer()
			closeDispatcher(b, d)
		})
	}
}

// reportCPU reports the process's CPU time per op since cpu0, all threads.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
