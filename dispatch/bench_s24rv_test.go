package dispatch

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/meltica/meltica/schema"
)

// BenchmarkS24rvPublishStreams publishes best bid/offers (coalescing lane,
// its slots swept) and trades (ordered lane) round robin over n streams
// to one subscriber with an empty handler, and reports the slowest single
// Publish seen (worst-µs: a sweep or a new generation of routes lands on
// one Publish). churn: every event a stream never seen before (symbols
// listed and delisted without end).
func BenchmarkS24rvPublishStreams(b *testing.B) {
	for _, typ := range []schema.EventType{schema.EventBBO, schema.EventTrade} {
		for _, n := range []int{1, 4096, 40000, 0} {
			name := strconv.Itoa(n)
			if n == 0 {
				name = "churn"
			}
			b.Run(typ.String()+"/streams="+name, func(b *testing.B) {
				syms := make([]string, max(n, 1<<18))
				for i := range syms {
					syms[i] = "S-" + strconv.Itoa(i)
				}
				p := newEventPool(64)
				d := New(p, nil)
				if _, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}, OrderedBound: 1 << 16}); err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				period := n
				if n == 0 {
					period = len(syms)
				}
				var worst time.Duration
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					ev, err := p.TryGet()
					if err != nil {
						b.Fatal(err)
					}
					ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, syms[i%period], typ, uint64(i)
					t0 := time.Now()
					if err := d.Publish(ctx, ev); err != nil {
						b.Fatal(err)
					}
					worst = max(worst, time.Since(t0))
				}
				b.StopTimer()
				b.ReportMetric(float64(worst.Microseconds()), "worst-µs")
				closeDispatcher(b, d)
			})
		}
	}
}

// BenchmarkS24rvRoute looks up the route of n streams round robin, each
// published again and again (no subscriber goroutine: the index alone).
// 40000 is more streams than one generation of routes holds.
func BenchmarkS24rvRoute(b *testing.B) {
	for _, n := range []int{4096, 40000} {
		b.Run("streams="+strconv.Itoa(n), func(b *testing.B) {
			ix := newIndex([]*Subscription{{id: 1, m: compile(Filter{})}})
			keys := make([]routeKey, n)
			for i := range keys {
				keys[i] = routeKey{venue: schema.VenueBinance, symbol: "S-" + strconv.Itoa(i), typ: schema.EventTrade}
			}
			for range 4 {
				for _, k := range keys {
					ix.route(k)
				}
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if len(ix.route(keys[i%n])) != 1 {
					b.Fatal("wrong route")
				}
			}
		})
	}
}
