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
// fitted through the live-heap samples may rise by at most heapBound, and
// the goroutine count may end at most goroutineBound above where it began.
const (
	heapBound      = 8 << 20 // bytes over the whole run
	goroutineBound = 2
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
		fmt.Fprintf(out, "%9s %10.1fMB %11d %7d\n", r.at.Round(time.Second), r.heap/1e6, r.goroutines, r.inUse)
	}
	c := cfg
	c.warmup = 0
	res, err := measure(ctx, c, "meltica", rate, sample)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "latency p50 %s p99 %s p99.9 %s max %s over %d events (%.0f/s), %d connection(s)\n",
		us(res.hist.ValueAtQuantile(50)), us(res.hist.ValueAtQuantile(99)), us(res.hist.ValueAtQuantile(99.9)), us(res.hist.Max()), res.hist.TotalCount(), res.achieved, res.conns)
	if len(rows) < 5 {
		return fmt.Errorf("only %d samples: run longer or sample more often", len(rows))
	}
	rows = rows[len(rows)/5:] // skip the warm-up
	xs := make([]float64, len(rows))
	hs := make([]float64, len(rows))
	gs := make([]float64, len(rows))
	for i, r := range rows {
		xs[i], hs[i], gs[i] = r.at.Seconds(), r.heap, float64(r.goroutines)
	}
	span := xs[len(xs)-1] - xs[0]
	heapSlope, goSlope := slope(xs, hs), slope(xs, gs)
	heapRise := heapSlope * span
	goRise := rows[len(rows)-1].goroutines - rows[0].goroutines
	fmt.Fprintf(out, "heap slope %+.1f KB/min (%+.2f MB over %.0fs; bound %d MB)\n", heapSlope*60/1e3, heapRise/1e6, span, heapBound>>20)
	fmt.Fprintf(out, "goroutine slope %+.3f/min (%+d over the run; bound %d)\n", goSlope*60, goRise, goroutineBound)
	if heapRise > heapBound || goRise > goroutineBound {
		return fmt.Errorf("growth beyond the bounds: heap %+.2f MB, goroutines %+d", heapRise/1e6, goRise)
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
