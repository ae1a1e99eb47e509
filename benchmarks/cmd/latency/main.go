// Latency measures end-to-end latency — venue send → WebSocket → parse →
// canonical event → fan-out → subscriber — for the baseline pipeline and for
// Meltica, in the same run, at fixed open-loop rates, stage by stage.
//
// The sender is this program run again as a child process (see sender.go),
// so that it measures Meltica, not its sender: the sender's pacing, writes
// and garbage never share a Go runtime with the pipeline. It works to a
// schedule — message i is due at start + i/rate — and waits for each due
// time precisely (a kernel sleep on a thread with 1 ns timer slack, then a
// yielding spin for the last -spin; never time.Sleep, which rounds up to
// about 1 ms). Message i is a Binance trade whose trade id is i and whose
// quantity is the instant it was written, in Unix ns (see appendTrade).
//
// Latency is reported twice: from the intended time (due → delivered), so
// a stall anywhere — sender, network, reader, GC — counts in full instead
// of hiding behind later sends (no coordinated omission), and from the
// actual send stamp (sent → delivered). The stages in between come from
// stamps the canonical event carries: IngestTS (the frame read, from
// schema.WsFrame.ReceivedAt), TraceID (stamped by the harness's sink when
// the parser hands the event on) and the handler's own clock read.
//
// Implementations, each on its own connection to its own sender:
//
//	baseline  gorilla/websocket → encoding/json → a channel per subscriber
//	meltica   wsclient → normalize → dispatch (a lane and goroutine per subscriber)
//	inline    wsclient → normalize → dispatch with inline subscriptions
//	          (dispatch.SubscribeOptions.Inline): every handler called on
//	          the reader goroutine with a clone of its own
//	sink      wsclient → normalize → the host's own Sink, on the reader
//	          goroutine (no dispatcher: the event is borrowed, not kept)
//
//	go run ./cmd/latency                        # 1k and 20k msg/s, 5 s each
//	go run ./cmd/latency -rates 20000 -duration 30s
//	go run ./cmd/latency -soak -rate 20000 -duration 60m
//
// Soak mode runs Meltica alone, samples the live heap, the goroutines and the
// pools' objects in use every -sample, prints the fitted slopes, and exits
// with status 1 when the heap, the goroutines or the pooled objects in use
// grow beyond the bounds it prints.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gorilla/websocket"

	"github.com/meltica/meltica/benchmarks/baseline"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

func main() {
	if os.Getenv(senderEnv) != "" {
		os.Exit(senderMain(os.Args[1:], os.Stdin, os.Stdout))
	}
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "latency:", err)
		os.Exit(1)
	}
}

type config struct {
	rates    []int
	duration time.Duration
	warmup   time.Duration
	subs     int
	soak     bool
	sample   time.Duration
	spin     time.Duration
	impls    []string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	rates := fs.String("rates", "1000,20000", "messages per second to measure, comma-separated")
	rate := fs.Int("rate", 0, "one rate (overrides -rates)")
	duration := fs.Duration("duration", 5*time.Second, "measured time per rate and implementation (soak: the whole run)")
	warmup := fs.Duration("warmup", time.Second, "unmeasured time before each measurement")
	subs := fs.Int("subs", 1, "subscribers; latency is taken at the first")
	soakMode := fs.Bool("soak", false, "soak mode: Meltica only, sample heap, goroutines and pools, check their growth")
	sample := fs.Duration("sample", 5*time.Second, "soak: time between samples")
	spin := fs.Duration("spin", 100*time.Microsecond, "sender: yield-spin this long before each due time instead of sleeping")
	impl := fs.String("impl", "baseline,meltica,inline", "implementations to measure: baseline, meltica, inline, sink")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := config{duration: *duration, warmup: *warmup, subs: max(*subs, 1), soak: *soakMode, sample: *sample, spin: *spin, impls: strings.Split(*impl, ",")}
	if *rate > 0 {
		cfg.rates = []int{*rate}
	} else {
		for _, r := range strings.Split(*rates, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(r))
			if err != nil || n <= 0 {
				return fmt.Errorf("bad rate %q", r)
			}
			cfg.rates = append(cfg.rates, n)
		}
	}
	var load string
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = "; load average " + strings.Join(strings.Fields(string(b))[:3], " ")
	}
	fmt.Fprintf(out, "%s, %d CPUs, %s; %d subscriber(s)%s\n", runtime.Version(), runtime.NumCPU(), time.Now().UTC().Format("2006-01-02 15:04 MST"), cfg.subs, load)
	if cfg.soak {
		return soak(ctx, cfg, cfg.rates[0], out)
	}
	var results []namedResult
	for _, r := range cfg.rates {
		for _, name := range cfg.impls {
			res, err := measure(ctx, cfg, name, r, nil)
			if err != nil {
				return fmt.Errorf("%s at %d/s: %w", name, r, err)
			}
			results = append(results, namedResult{name, r, res})
		}
	}
	printResults(out, results)
	return nil
}

type namedResult struct {
	impl string
	rate int
	result
}

// printResults prints the end-to-end table, then the stages.
func printResults(out io.Writer, rs []namedResult) {
	fmt.Fprintf(out, "\nend to end, from the intended send time (due) and from the actual send stamp (sent):\n")
	fmt.Fprintf(out, "%-9s %6s %8s %8s %5s %5s | %-31s | %-31s | %7s\n", "impl", "rate", "achieved", "events", "lost", "conns",
		"due→delivered p50/p99/p99.9/max", "sent→delivered p50/p99/p99.9/max", "gc p99")
	for _, r := range rs {
		fmt.Fprintf(out, "%-9s %6d %8.0f %8d %5d %5d | %-31s | %-31s | %7s\n", r.impl, r.rate, r.achieved, r.hist[stageTotal].TotalCount(), r.lost, r.conns,
			quantiles(r, stageTotal, true), quantiles(r, stageFromTx, true), dur(int64(r.gcP99)))
	}
	fmt.Fprintf(out, "\nstages, p50/p99/p99.9:\n%-9s %6s", "impl", "rate")
	for s := stageSender; s < numStages; s++ {
		fmt.Fprintf(out, " | %-23s", stageNames[s])
	}
	fmt.Fprintln(out)
	for _, r := range rs {
		fmt.Fprintf(out, "%-9s %6d", r.impl, r.rate)
		for s := stageSender; s < numStages; s++ {
			fmt.Fprintf(out, " | %-23s", quantiles(r, s, false))
		}
		fmt.Fprintln(out)
	}
}

func quantiles(r namedResult, s int, withMax bool) string {
	h := r.hist[s]
	q := []string{dur(h.ValueAtQuantile(50)), dur(h.ValueAtQuantile(99)), dur(h.ValueAtQuantile(99.9))}
	if withMax {
		q = append(q, dur(h.Max()))
	}
	return strings.Join(q, "/")
}

// dur formats ns as µs below 1 ms, ms above.
func dur(ns int64) string {
	if ns < 1_000_000 {
		return strconv.FormatFloat(float64(ns)/1e3, 'f', 1, 64) + "µs"
	}
	return strconv.FormatFloat(float64(ns)/1e6, 'f', 2, 64) + "ms"
}

type result struct {
	hist     [numStages]*hdrhistogram.Histogram
	achieved float64 // events per second seen by the subscriber
	gcP99    time.Duration
	conns    int64  // connections the sender accepted (1 unless the client reconnected)
	lost     uint64 // measured messages the first subscriber never saw (Meltica: dropped oldest-first by its lane, announced by gap markers)
}

// measure runs one implementation at one rate against a sender process of
// its own: warm-up, then duration measured. onSample, when set, is called
// every cfg.sample (soak).
func measure(ctx context.Context, cfg config, impl string, rate int, onSample func(*schema.Pools)) (result, error) {
	interval := time.Second / time.Duration(rate)
	warm := uint64(cfg.warmup / interval)
	measured := uint64(cfg.duration / interval)
	total := warm + measured + uint64(rate/10) + 1 // a little past the end, to end the measurement
	snd, err := startSender(rate, total, cfg.spin)
	if err != nil {
		return result{}, err
	}
	rec := newRecorder(interval, warm, warm+measured)

	runtime.GC()
	gc0 := gcPauses()
	var stop func() error
	var pools *schema.Pools
	switch impl {
	case "baseline":
		stop, err = startBaseline(snd.url, cfg.subs, rec)
	case "meltica", "inline", "sink":
		stop, pools, err = startMeltica(ctx, snd.url, cfg.subs, impl, rec)
	default:
		err = fmt.Errorf("unknown implementation %q", impl)
	}
	if err == nil {
		// The schedule starts once the client is connected, so the dial is
		// not counted.
		if _, err = snd.expect("connected", 30*time.Second); err == nil {
			start := time.Now().Add(20 * time.Millisecond)
			rec.start.Store(start.UnixNano())
			err = snd.begin(start)
		}
		if err != nil {
			_ = stop()
		}
	}
	if err != nil {
		_, _ = snd.stop()
		return result{}, err
	}
	t0 := time.Now()
	limit := time.After(cfg.warmup + cfg.duration + 30*time.Second)
	var tick <-chan time.Time
	if onSample != nil {
		t := time.NewTicker(cfg.sample)
		defer t.Stop()
		tick = t.C
	}
wait:
	for {
		select {
		case <-rec.done:
			break wait
		case <-tick:
			onSample(pools)
		case <-limit:
			err = fmt.Errorf("only %d of %d messages arrived", rec.seen.Load(), measured)
			break wait
		}
	}
	elapsed := time.Since(t0) - cfg.warmup
	gc1 := gcPauses()
	err = errors.Join(err, stop())
	conns, serr := snd.stop()
	res := result{hist: rec.hist, achieved: float64(rec.seen.Load()) / elapsed.Seconds(), gcP99: p99(gc0, gc1), conns: conns, lost: measured - min(rec.seen.Load(), measured)}
	return res, errors.Join(err, serr)
}

// startBaseline runs gorilla → encoding/json → channel fan-out. The read
// stamp is taken when ReadMessage returns, the parse stamp when Decode
// does.
func startBaseline(url string, subs int, rec *recorder) (func() error, error) {
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	f := baseline.NewFanout(subs, 1024, func(sub int, ev *schema.CanonicalEvent) {
		if sub == 0 {
			rec.record(ev, time.Now().UnixNano())
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			evs, err := baseline.Decode(msg, time.Now().UnixNano())
			if err != nil {
				continue
			}
			parsed := uint64(time.Now().UnixNano())
			for _, ev := range evs {
				ev.TraceID = parsed
				f.Publish(ev)
			}
		}
	}()
	return func() error {
		_ = c.Close()
		<-done
		f.Close()
		return nil
	}, nil
}

// startMeltica runs wsclient → normalize → dispatch (mode "meltica": a
// lane per subscriber; "inline": inline subscriptions), or with "sink"
// wsclient → normalize → handlers called on the reader goroutine, no
// dispatcher.
func startMeltica(ctx context.Context, url string, subs int, mode string, rec *recorder) (func() error, *schema.Pools, error) {
	ps := schema.NewPools(nil)
	first := func(ev *schema.CanonicalEvent) { rec.record(ev, time.Now().UnixNano()) }
	var next normalize.Sink
	var d *dispatch.Dispatcher
	if mode == "sink" {
		next = normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			first(ev)
			for range subs - 1 {
				discardEvent(ev)
			}
			ps.Events.Put(ev)
			return nil
		})
	} else {
		d = dispatch.New(ps.Events, nil)
		for i := range subs {
			h := discardEvent
			if i == 0 {
				h = first
			}
			if _, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: h, Inline: mode == "inline"}); err != nil {
				return nil, nil, err
			}
		}
		next = d
	}
	// The parse stamp: one clock read per event, between the parser and
	// what it hands the event to.
	stamp := normalize.SinkFunc(func(ctx context.Context, ev *schema.CanonicalEvent) error {
		ev.TraceID = uint64(time.Now().UnixNano())
		return next.Publish(ctx, ev)
	})
	p := normalize.NewBinance(ps.Events, stamp, nil)
	c, err := wsclient.New(url, p.HandleFrame, &wsclient.Options{Venue: schema.VenueBinance, Frames: ps.Frames, IdleTimeout: -1, PingInterval: -1})
	if err != nil {
		return nil, nil, err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(ctx) }()
	return func() error {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := c.Close(cctx)
		if d != nil {
			err = errors.Join(err, d.Close(cctx))
		}
		if rerr := <-runErr; rerr != nil && !errors.Is(rerr, context.Canceled) {
			err = errors.Join(err, rerr)
		}
		return errors.Join(err, ps.Shutdown(cctx))
	}, ps, nil
}

// discardEvent is the handler of every subscriber but the first.
func discardEvent(*schema.CanonicalEvent) {}

// gcPauses reads the cumulative GC pause histogram.
func gcPauses() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: "/sched/pauses/total/gc:seconds"}}
	metrics.Read(s)
	h := s[0].Value.Float64Histogram()
	return &metrics.Float64Histogram{Counts: append([]uint64(nil), h.Counts...), Buckets: h.Buckets}
}

// p99 is the 99th percentile of the pauses between two readings.
func p99(a, b *metrics.Float64Histogram) time.Duration {
	var total uint64
	counts := make([]uint64, len(b.Counts))
	for i := range b.Counts {
		counts[i] = b.Counts[i] - a.Counts[i]
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	target := (total*99 + 99) / 100
	var acc uint64
	for i, c := range counts {
		acc += c
		if acc >= target {
			hi := b.Buckets[i+1]
			if hi > 1e9 { // +Inf
				hi = b.Buckets[i]
			}
			return time.Duration(hi * float64(time.Second))
		}
	}
	return 0
}
