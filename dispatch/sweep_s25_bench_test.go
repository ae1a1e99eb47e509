package dispatch

import (
	"context"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/meltica/meltica/schema"
)

// BenchmarkS25PublishSweep publishes best bid/offers round robin over n
// live streams to one subscriber with an empty handler, with a stream
// never seen before every 8th publish (symbols listed and delisted while
// others keep quoting), so the subscriber's coalescing slots are swept
// again and again while n of them stay live. It reports the slowest single
// Publish (see windowMax).
func BenchmarkS25PublishSweep(b *testing.B) {
	for _, n := range []int{4096, 100_000} {
		b.Run("live="+strconv.Itoa(n), func(b *testing.B) {
			live, fresh := symbols("L-", n), symbols("N-", 1<<20)
			p := newEventPool(64)
			d := New(p, nil)
			if _, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}}); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			pub := func(sym string) time.Duration {
				ev, err := p.TryGet()
				if err != nil {
					b.Fatal(err)
				}
				ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, sym, schema.EventBBO
				t0 := time.Now()
				if err := d.Publish(ctx, ev); err != nil {
					b.Fatal(err)
				}
				return time.Since(t0)
			}
			sweepLoop(b, live, fresh, pub, false)
			closeDispatcher(b, d)
		})
	}
}

// BenchmarkS25EnqueueSweep is the work a Publish does under one
// subscription's lock, alone: a best bid/offer queued and taken off
// again (as the subscriber's goroutine would), on one goroutine, with the
// collector off so that its pauses do not hide the sweep. Streams as in
// BenchmarkS25PublishSweep: n live, a new one every 8th event. It reports the
// slowest single enqueue (see windowMax).
func BenchmarkS25EnqueueSweep(b *testing.B) {
	for _, n := range []int{4096, 100_000} {
		b.Run("live="+strconv.Itoa(n), func(b *testing.B) {
			live, fresh := symbols("L-", n), symbols("N-", 1<<20)
			s := newSubscription(nil, 1, Filter{}, SubscribeOptions{})
			ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Type: schema.EventBBO}
			one := func(sym string) time.Duration {
				ev.Symbol = sym
				cl := newClones(ev, 1)
				t0 := time.Now()
				s.enqueue(&cl)
				d := time.Since(t0)
				s.mu.Lock()
				s.popLocked()
				s.mu.Unlock()
				return d
			}
			sweepLoop(b, live, fresh, one, true)
		})
	}
}

// windowMax keeps the slowest of every 32,768 timed calls and reports
// the median of those maxima (max-µs): a pause that comes with the
// streams (a sweep of every slot) lands in every window, one that comes
// from a loaded machine (preemption, another process) in a few, so the
// median tells the first from the second, where the single slowest call
// of a run on a shared machine mostly tells the second.
type windowMax struct {
	n     int
	cur   time.Duration
	maxes []time.Duration
}

func (w *windowMax) add(d time.Duration) {
	w.cur = max(w.cur, d)
	if w.n++; w.n == 1<<15 {
		w.maxes = append(w.maxes, w.cur)
		w.n, w.cur = 0, 0
	}
}

func (w *windowMax) report(b *testing.B) {
	if len(w.maxes) == 0 {
		return
	}
	slices.Sort(w.maxes)
	b.ReportMetric(float64(w.maxes[len(w.maxes)/2].Nanoseconds())/1e3, "max-µs")
}

// symbols returns n symbols: prefix and a number.
func symbols(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

// sweepLoop quotes every live symbol twice, then times one call per
// iteration, a live symbol round robin and a fresh one every 8th. noGC
// turns the collector off while timing, collecting between windows of
// 65,536 calls instead.
func sweepLoop(b *testing.B, live, fresh []string, one func(sym string) time.Duration, noGC bool) {
	for range 2 {
		for _, sym := range live {
			one(sym)
		}
	}
	if noGC {
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
	}
	var w windowMax
	nf := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sym := live[i%len(live)]
		if i%8 == 7 {
			sym = fresh[nf%len(fresh)]
			nf++
		}
		w.add(one(sym))
		if noGC && i%65536 == 65535 {
			b.StopTimer()
			runtime.GC()
			b.StartTimer()
		}
	}
	b.StopTimer()
	w.report(b)
}
