package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"time"

	"github.com/meltica/meltica/schema"
)

// Soak bounds: over the run (after the first fifth, the warm-up), the line
// fitted through the live-heap samples may rise by at most heapBound, the
// goroutine count may end at most goroutineBound above where it began, and
// the line fitted through the pooled objects checked out (all pools) may
// rise by at most poolBound: a leak of one event per second would pass
// it within a minute.
const (
	heapBound      = 8 << 20 // bytes over the whole run
	goroutineBound = 2
	poolBound      = 64 // objects over the whole run
)

type sampleRow struct {
	at         time.Duration
	heap       float64 // live heap bytes after the last GC
	goroutines int
	inUse      int64 // pooled objects checked out, all pools
}

func liveHeap() float64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return float64(s[0].Value.Uint64())
}

// soak runs Meltica at rate for cfg.duration and checks for growth.
func soak(ctx context.Context, cfg config, rate int, out io.Writer) error {
	fmt.Fprintf(out, "soak: meltica at %d msg/s for %s, a sample every %s\n", rate, cfg.duration, cfg.sample)
	fmt.Fprintf(out, "%9s %12s %11s %7s\n", "t", "live heap", "goroutines", "in use")
	start := time.Now()
	var rows []sampleRow
	sample := func(ps *schema.Pools) {
		var inUse int64
		if ps != nil {
			for _, s := range ps.Stats() {
				inUse += s.InUse
			}
		}
		r := sampleRow{at: time.Since(start), heap: liveHeap(), goroutines: runtime.NumGoroutine(), inUse: inUse}
		rows = append(rows, r)
		fmt.Fprintf(out, "%9s %10.1fMB %11d %7d\n", r.at.Round(100*time.Millisecond), r.heap/1e6, r.goroutines, r.inUse)
	}
	c := cfg
	c.warmup = 0
	res, err := measure(ctx, c, "meltica", rate, sample)
	if err != nil {
		return err
	}
	h := res.hist[stageTotal]
	fmt.Fprintf(out, "latency from due p50 %s p99 %s p99.9 %s max %s over %d events (%.0f/s, %d lost), %d connection(s)\n",
		dur(h.ValueAtQuantile(50)), dur(h.ValueAtQuantile(99)), dur(h.ValueAtQuantile(99.9)), dur(h.Max()), h.TotalCount(), res.achieved, res.lost, res.conns)
	h = res.hist[stageFromTx]
	fmt.Fprintf(out, "latency from send p50 %s p99 %s p99.9 %s max %s\n", dur(h.ValueAtQuantile(50)), dur(h.ValueAtQuantile(99)), dur(h.ValueAtQuantile(99.9)), dur(h.Max()))
	return checkGrowth(rows, out)
}

// checkGrowth fits the samples past the warm-up (the first fifth) and
// fails when the heap, the goroutines or the pooled objects in use grew
// beyond their bounds over the run; it prints the slopes and, when none
// did, "soak: ok".
func checkGrowth(rows []sampleRow, out io.Writer) error {
	if len(rows) < 5 {
		return fmt.Errorf("only %d samples: run longer or sample more often", len(rows))
	}
	rows = rows[len(rows)/5:] // skip the warm-up
	xs := make([]float64, len(rows))
	hs := make([]float64, len(rows))
	gs := make([]float64, len(rows))
	ps := make([]float64, len(rows))
	for i, r := range rows {
		xs[i], hs[i], gs[i], ps[i] = r.at.Seconds(), r.heap, float64(r.goroutines), float64(r.inUse)
	}
	span := xs[len(xs)-1] - xs[0]
	heapSlope, goSlope, poolSlope := slope(xs, hs), slope(xs, gs), slope(xs, ps)
	heapRise, poolRise := heapSlope*span, poolSlope*span
	goRise := rows[len(rows)-1].goroutines - rows[0].goroutines
	fmt.Fprintf(out, "heap slope %+.1f KB/min (%+.2f MB over %.0fs; bound %d MB)\n", heapSlope*60/1e3, heapRise/1e6, span, heapBound>>20)
	fmt.Fprintf(out, "goroutine slope %+.3f/min (%+d over the run; bound %d)\n", goSlope*60, goRise, goroutineBound)
	fmt.Fprintf(out, "pool slope %+.3f objects/min in use (%+.1f over the run; bound %d)\n", poolSlope*60, poolRise, poolBound)
	if heapRise > heapBound || goRise > goroutineBound || poolRise > poolBound {
		return fmt.Errorf("growth beyond the bounds: heap %+.2f MB, goroutines %+d, pooled objects %+.1f", heapRise/1e6, goRise, poolRise)
	}
	fmt.Fprintln(out, "soak: ok")
	return nil
}

// slope is the least-squares slope of y over x.
func slope(x, y []float64) float64 {
	n := float64(len(x))
	var sx, sy, sxx, sxy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		sxy += x[i] * y[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}
