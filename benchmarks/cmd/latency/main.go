// Latency measures end-to-end latency — venue send → WebSocket → parse →
// canonical event → fan-out → subscriber — for the baseline pipeline and for
// Meltica, in the same run, at fixed open-loop rates.
//
// The sender works to a schedule: message i is due at start + i/rate, and
// latency is measured from that intended time, not from when the message was
// actually written, so a stall anywhere (sender, network, reader, GC) counts
// in full instead of hiding behind later sends (no coordinated omission).
// Message i is a Binance trade whose trade id is i, so the subscriber knows
// its due time.
//
//	go run ./cmd/latency                        # 1k, 20k and 50k msg/s, 5 s each
//	go run ./cmd/latency -rates 20000 -duration 30s
//	go run ./cmd/latency -soak -rate 20000 -duration 10m
//
// Soak mode runs Meltica alone, samples the live heap, the goroutines and the
// pools' objects in use every -sample, prints the fitted slopes, and exits
// with status 1 when the heap or the goroutines grow beyond the bounds it
// prints.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gorilla/websocket"

	"github.com/meltica/meltica/benchmarks/baseline"
	"github.com/meltica/meltica/benchmarks/internal/rawws"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

func main() {
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
	impls    []string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	rates := fs.String("rates", "1000,20000,50000", "messages per second to measure, comma-separated")
	rate := fs.Int("rate", 0, "one rate (overrides -rates)")
	duration := fs.Duration("duration", 5*time.Second, "measured time per rate and implementation (soak: the whole run)")
	warmup := fs.Duration("warmup", time.Second, "unmeasured time before each measurement")
	subs := fs.Int("subs", 1, "subscribers; latency is taken at the first")
	soakMode := fs.Bool("soak", false, "soak mode: Meltica only, sample heap, goroutines and pools, check their growth")
	sample := fs.Duration("sample", 5*time.Second, "soak: time between samples")
	impl := fs.String("impl", "baseline,meltica", "implementations to measure")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := config{duration: *duration, warmup: *warmup, subs: max(*subs, 1), soak: *soakMode, sample: *sample, impls: strings.Split(*impl, ",")}
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
	fmt.Fprintf(out, "%s, %d CPUs, %s; %d subscriber(s)\n", runtime.Version(), runtime.NumCPU(), time.Now().UTC().Format("2006-01-02 15:04 MST"), cfg.subs)
	if cfg.soak {
		return soak(ctx, cfg, cfg.rates[0], out)
	}
	fmt.Fprintf(out, "%-9s %8s %10s %9s %9s %9s %9s %9s %10s %9s %6s\n", "impl", "rate", "achieved", "p50", "p90", "p99", "p99.9", "max", "gc p99", "events", "conns")
	for _, r := range cfg.rates {
		for _, name := range cfg.impls {
			res, err := measure(ctx, cfg, name, r, nil)
			if err != nil {
				return fmt.Errorf("%s at %d/s: %w", name, r, err)
			}
			h := res.hist
			fmt.Fprintf(out, "%-9s %8d %10.0f %9s %9s %9s %9s %9s %10s %9d %6d\n", name, r, res.achieved,
				us(h.ValueAtQuantile(50)), us(h.ValueAtQuantile(90)), us(h.ValueAtQuantile(99)), us(h.ValueAtQuantile(99.9)), us(h.Max()),
				res.gcP99.Round(time.Microsecond), h.TotalCount(), res.conns)
		}
	}
	return nil
}

func us(v int64) string { return (time.Duration(v) * time.Microsecond).String() }

type result struct {
	hist     *hdrhistogram.Histogram
	achieved float64 // events per second seen by the subscriber
	gcP99    time.Duration
	conns    int64 // connections the server accepted (1 unless the client reconnected)
}

// schedule is the sender's plan shared with the receiver: message i is due
// at start + i*interval.
type schedule struct {
	start    time.Time
	interval time.Duration
}

func (s schedule) due(i uint64) time.Time { return s.start.Add(time.Duration(i) * s.interval) }

// recorder takes latencies at the subscriber once the warm-up is over.
type recorder struct {
	mu       sync.Mutex
	hist     *hdrhistogram.Histogram
	sched    schedule
	from, to uint64 // message ids measured: [from, to)
	seen     atomic.Uint64
	done     chan struct{}
	once     sync.Once
}

func (r *recorder) record(id uint64) {
	if id < r.from {
		return
	}
	if id >= r.to {
		r.once.Do(func() { close(r.done) })
		return
	}
	lat := time.Since(r.sched.due(id))
	r.mu.Lock()
	_ = r.hist.RecordValue(max(lat.Microseconds(), 1))
	r.mu.Unlock()
	r.seen.Add(1)
}

// server streams trades on schedule. A new connection (a reconnect)
// carries on from the first message not yet written, so a reconnect shows
// as the gap and the late messages it really is, never as a replay.
func server(sched *atomic.Pointer[schedule], total uint64, conns *atomic.Int64) *rawws.Server {
	var next atomic.Uint64
	return rawws.Start(func(conn net.Conn, w *bufio.Writer) {
		conns.Add(1)
		s := *sched.Load()
		var payload, frame []byte
		for i := next.Load(); i < total; {
			now := time.Now()
			for ; i < total && !s.due(i).After(now); i++ {
				payload = appendTrade(payload[:0], i, s.due(i).UnixMilli())
				frame = rawws.AppendFrame(frame[:0], payload)
				if _, err := w.Write(frame); err != nil {
					return
				}
				next.Store(i + 1)
			}
			if w.Flush() != nil {
				return
			}
			if i < total {
				time.Sleep(min(time.Until(s.due(i)), time.Millisecond))
			}
		}
		_ = w.Flush()
		// Keep the connection open until the client goes away.
		buf := make([]byte, 1)
		_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
		_, _ = conn.Read(buf)
	})
}

func appendTrade(b []byte, id uint64, ms int64) []byte {
	b = append(b, `{"stream":"btcusdt@trade","data":{"e":"trade","E":`...)
	b = strconv.AppendInt(b, ms, 10)
	b = append(b, `,"s":"BTCUSDT","t":`...)
	b = strconv.AppendUint(b, id, 10)
	b = append(b, `,"p":"67321.45000000","q":"0.01230000","T":`...)
	b = strconv.AppendInt(b, ms, 10)
	return append(b, `,"m":true,"M":true}}`...)
}

// measure runs one implementation at one rate: warm-up, then duration
// measured. onSample, when set, is called every cfg.sample (soak).
func measure(ctx context.Context, cfg config, impl string, rate int, onSample func(*schema.Pools)) (result, error) {
	interval := time.Second / time.Duration(rate)
	warm := uint64(cfg.warmup / interval)
	measured := uint64(cfg.duration / interval)
	total := warm + measured + uint64(rate/10) + 1 // a little past the end, to end the measurement
	var sched atomic.Pointer[schedule]
	var conns atomic.Int64
	srv := server(&sched, total, &conns)
	defer srv.Close()
	rec := &recorder{hist: hdrhistogram.New(1, 60_000_000, 3), from: warm, to: warm + measured, done: make(chan struct{})}

	runtime.GC()
	gc0 := gcPauses()
	var stop func() error
	var pools *schema.Pools
	// The schedule starts when the client is connected, so the dial is not
	// counted; the server reads it when the connection arrives.
	sched.Store(&schedule{start: time.Now().Add(50 * time.Millisecond), interval: interval})
	rec.sched = *sched.Load()
	switch impl {
	case "baseline":
		s, err := startBaseline(srv.URL(), cfg.subs, rec)
		if err != nil {
			return result{}, err
		}
		stop = s
	case "meltica":
		s, ps, err := startMeltica(ctx, srv.URL(), cfg.subs, rec)
		if err != nil {
			return result{}, err
		}
		stop, pools = s, ps
	default:
		return result{}, fmt.Errorf("unknown implementation %q", impl)
	}
	t0 := time.Now()
	limit := time.After(cfg.warmup + cfg.duration + 30*time.Second)
	var tick <-chan time.Time
	if onSample != nil {
		t := time.NewTicker(cfg.sample)
		defer t.Stop()
		tick = t.C
	}
	var err error
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
	if serr := stop(); err == nil {
		err = serr
	}
	return result{hist: rec.hist, achieved: float64(rec.seen.Load()) / elapsed.Seconds(), gcP99: p99(gc0, gc1), conns: conns.Load()}, err
}

// startBaseline runs gorilla → encoding/json → channel fan-out.
func startBaseline(url string, subs int, rec *recorder) (func() error, error) {
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	f := baseline.NewFanout(subs, 1024, func(sub int, ev *schema.CanonicalEvent) {
		if sub == 0 {
			rec.record(ev.SeqProvider)
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
			for _, ev := range evs {
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

// startMeltica runs wsclient → normalize → dispatch.
func startMeltica(ctx context.Context, url string, subs int, rec *recorder) (func() error, *schema.Pools, error) {
	ps := schema.NewPools(nil)
	d := dispatch.New(ps.Events, nil)
	for i := range subs {
		h := func(*schema.CanonicalEvent) {}
		if i == 0 {
			h = func(ev *schema.CanonicalEvent) { rec.record(ev.SeqProvider) }
		}
		if _, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: h}); err != nil {
			return nil, nil, err
		}
	}
	p := normalize.NewBinance(ps.Events, d, nil)
	c, err := wsclient.New(url, p.HandleFrame, &wsclient.Options{Venue: schema.VenueBinance, Frames: ps.Frames, IdleTimeout: -1, PingInterval: -1})
	if err != nil {
		return nil, nil, err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(ctx) }()
	return func() error {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := errors.Join(c.Close(cctx), d.Close(cctx))
		if rerr := <-runErr; rerr != nil && !errors.Is(rerr, context.Canceled) {
			err = errors.Join(err, rerr)
		}
		return errors.Join(err, ps.Shutdown(cctx))
	}, ps, nil
}

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
