package dispatch

import (
	"strconv"
	"testing"
	"time"

	"github.com/meltica/meltica/schema"
)

// BenchmarkS27Route looks up the routes of n streams in turn, each
// published again and again, on an index of one subscriber (the index
// alone: no queue, no goroutine), and reports the slowest single lookup
// (worst-µs: a promotion or a new generation lands on one publish).
// 100000 is more streams than two generations of maxRoutes hold; churn:
// every lookup a stream never seen before.
func BenchmarkS27Route(b *testing.B) {
	for _, n := range []int{4096, 40000, 100000, 0} {
		name := strconv.Itoa(n)
		if n == 0 {
			name = "churn"
		}
		b.Run("streams="+name, func(b *testing.B) {
			period := n
			if n == 0 {
				period = 1 << 20
			}
			keys := make([]routeKey, period)
			for i := range keys {
				keys[i] = routeKey{venue: schema.VenueBinance, symbol: "S-" + strconv.Itoa(i), typ: schema.EventBBO}
			}
			ix := newIndex([]*Subscription{{id: 1, m: compile(Filter{})}})
			if n != 0 {
				for range 4 { // warm-up
					for _, k := range keys {
						ix.route(k)
					}
				}
			}
			var worst time.Duration
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				t0 := time.Now()
				r := ix.route(keys[i%period])
				worst = max(worst, time.Since(t0))
				if len(r) != 1 {
					b.Fatal("wrong route")
				}
			}
			b.ReportMetric(float64(worst.Microseconds()), "worst-µs")
		})
	}
}
