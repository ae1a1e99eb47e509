package dispatch

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/meltica/meltica/schema"
)

// BenchmarkS30SweepGone is the cost of one sweep of the routes of the
// subscriptions gone (sweepGone: every maxGone Unsubscribes, on the
// dispatcher's sweep goroutine), on an index that learned n streams of two
// subscribers, of which one has left: every route holds it and is
// rewritten (gone), or none does and the sweep only reads (kept). It
// reports the routes held; the routes are put back outside the timer.
func BenchmarkS30SweepGone(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, gone := range []bool{true, false} {
			b.Run("routes="+strconv.Itoa(n)+"/gone="+strconv.FormatBool(gone), func(b *testing.B) {
				keep, leave := &Subscription{id: 1, m: compile(Filter{})}, &Subscription{id: 2, m: compile(Filter{})}
				subs := []*Subscription{keep, leave}
				if !gone {
					subs = subs[:1]
				}
				ix := newIndex(subs)
				keys := make([]routeKey, n)
				for i := range keys {
					keys[i] = routeKey{venue: schema.VenueBinance, symbol: "S-" + strconv.Itoa(i), typ: schema.EventBBO}
				}
				for range 4 { // the streams come back: the generations grow to hold them
					for _, k := range keys {
						ix.route(k)
					}
				}
				held := ix.size()
				leave.gone.Store(true)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					ix.sweepGone(new(atomic.Bool))
					b.StopTimer()
					if gone {
						for _, g := range [2]*routes{ix.cur.Load(), ix.old} {
							if g == nil {
								continue
							}
							g.m.Range(func(k, _ any) bool {
								g.m.Store(k, &route{subs: subs, epoch: ix.epoch})
								return true
							})
						}
					}
					b.StartTimer()
				}
				b.ReportMetric(float64(held), "routes")
			})
		}
	}
}
