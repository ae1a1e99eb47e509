// Slowconsumer runs one fast and one deliberately slow subscriber on the
// same feed, with orders being filled at the same time, and prints what
// each one received: the slow one sees fewer, fresher best bid/offers
// (coalesced, latest wins), loses old trades and book diffs with a gap
// marker that says how many, and still gets every execution report.
//
// -live runs the two subscribers on Binance's public market data instead
// (-endpoint testnet: the spot test network's); no orders are placed then.
//
//	go run ./examples/slowconsumer
//	go run ./examples/slowconsumer -slow 20ms -orders 5
//	go run ./examples/slowconsumer -slow-events 100
//
// -slow-events makes the slow subscriber's pace a count instead of a
// duration: each of its handler calls lasts until the fast subscriber has
// received that many more events (at most 50 ms, should the feed pause),
// so it is that many times slower than the feed however loaded the machine
// is (the test uses it).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/examples/internal/cli"
	"github.com/meltica/meltica/internal/flagval"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

func main() { cli.Main("slowconsumer", run) }

// tally counts what one subscriber received.
type tally struct {
	mu        sync.Mutex
	byType    map[schema.EventType]int
	gapEvents int    // gap markers received
	gapCount  uint64 // events they say were lost
	execs     int
	lastExec  map[string]schema.OrderStatus
	outOfSeq  int             // execution reports of one order seen out of order
	execWait  []time.Duration // receive time minus ingest time of each execution report
	total     atomic.Int64    // events received
}

func newTally() *tally {
	return &tally{byType: map[schema.EventType]int{}, lastExec: map[string]schema.OrderStatus{}}
}

func (t *tally) add(ev *schema.CanonicalEvent) {
	t.total.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byType[ev.Type]++
	switch ev.Type {
	case schema.EventGap:
		t.gapEvents++
		if ev.Control != nil {
			t.gapCount += ev.Control.GapCount
		}
	case schema.EventExecReport:
		t.execs++
		if ev.IngestTS > 0 {
			t.execWait = append(t.execWait, time.Duration(time.Now().UnixNano()-ev.IngestTS))
		}
		if ev.Exec == nil {
			break
		}
		id := ev.Exec.ClientOrderID.String()
		if prev, ok := t.lastExec[id]; ok && ev.Exec.Status < prev {
			t.outOfSeq++
		}
		t.lastExec[id] = ev.Exec.Status
	}
}

func (t *tally) execCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.execs
}

// waits returns the median and the longest wait of the execution reports.
func (t *tally) waits() (p50, worst time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.execWait) == 0 {
		return 0, 0
	}
	w := slices.Sorted(slices.Values(t.execWait))
	return w[len(w)/2], w[len(w)-1]
}

func pace(d time.Duration, events int64) string {
	if events > 0 {
		return fmt.Sprintf("as long as %d feed events", events)
	}
	return d.String()
}

// slowest bounds the slow subscriber's time per event when its pace is
// counted in feed events (-slow-events): 50 ms, so a backlog of a few
// hundred events drains in seconds even when the feed pauses.
const slowest = 50 * time.Millisecond

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("slowconsumer", flag.ContinueOnError)
	duration := fs.Duration("duration", 3*time.Second, "how long the feed runs")
	rate := fs.Int("rate", 4000, "simulated venue: market-data messages per second")
	slow := fs.Duration("slow", 2*time.Millisecond, "how long the slow subscriber spends on each event")
	slowEvents := fs.Int64("slow-events", 0, "if set, the slow subscriber spends on each event as long as the feed takes to deliver this many, at most 50ms (overrides -slow)")
	orderRate := fs.Int("orders", 40, "market orders placed per second (3 execution reports each)")
	useLive := fs.Bool("live", false, "use Binance's public market data (no orders)")
	endpoint := fs.String("endpoint", "production", "with -live: production or testnet (public market data)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := errors.Join(flagval.Positive("-duration", *duration), flagval.AtLeast("-rate", *rate, 1), flagval.NonNegative("-slow", *slow), flagval.NonNegative("-slow-events", *slowEvents), flagval.NonNegative("-orders", *orderRate)); err != nil {
		return err
	}
	live, err := cli.LiveEndpoints(*endpoint)
	if err != nil {
		return err
	}
	out = cli.SyncWriter(out)
	keys := normalize.NewCredentials("demo-key", normalize.NewHMACSigner([]byte("demo-secret")))
	var venue *venuesim.Venue
	if !*useLive {
		venue = venuesim.Start(&venuesim.Options{Rate: *rate})
		defer venue.Close()
	}
	cfg := session.Config{Endpoints: cli.Endpoints(venue, live), Symbols: []string{"BTC-USDT", "ETH-USDT"},
		Channels: []string{"trade", "bookTicker", "depth@100ms"}}
	if venue != nil {
		cfg.Credentials = keys
	}
	f, err := session.Start(ctx, cfg)
	if err != nil {
		return err
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second) // a deadline for a busy machine
	defer cancel()
	closeFeed := sync.OnceValue(func() error { return f.Close(shutdownCtx) })
	defer func() { _ = closeFeed() }() // on an early return; the close below reports its error
	fast, slowT := newTally(), newTally()
	fastSub, err := f.Dispatcher().Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Name: "fast", Handler: fast.add})
	if err != nil {
		return err
	}
	stopped := make(chan struct{}) // the feed is closing: the slow strategy stops waiting
	var stopOnce sync.Once
	stop := func() { stopOnce.Do(func() { close(stopped) }) }
	defer stop()
	slowSub, err := f.Dispatcher().Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{
		Name:         "slow",
		OrderedBound: 64,
		Handler: func(ev *schema.CanonicalEvent) {
			slowT.add(ev)
			if *slowEvents <= 0 {
				time.Sleep(*slow) // a deliberately slow strategy
				return
			}
			// As long as the feed takes to deliver slowEvents more events,
			// but never more than slowest: a feed that pauses (a reconnect
			// on a starved machine) must not freeze the strategy with
			// execution reports queued behind it.
			target := fast.total.Load() + *slowEvents
			limit := time.NewTimer(slowest)
			defer limit.Stop()
			for fast.total.Load() < target {
				select {
				case <-stopped:
					return
				case <-limit.C:
					return
				case <-time.After(100 * time.Microsecond):
				}
			}
		},
	})
	if err != nil {
		return err
	}
	if err := f.WaitConnected(ctx); err != nil {
		return err
	}
	if venue != nil {
		fmt.Fprintf(out, "feed at %d msg/s; slow subscriber takes %s per event; %d market orders/s\n", *rate, pace(*slow, *slowEvents), *orderRate)
	} else {
		fmt.Fprintf(out, "Binance live market data; slow subscriber takes %s per event; no orders\n", pace(*slow, *slowEvents))
	}

	// Place market orders while the feed runs.
	tick := time.NewTicker(time.Second / time.Duration(max(*orderRate, 1)))
	deadline := time.After(*duration)
	sent := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-deadline:
			break loop
		case <-tick.C:
			if venue == nil {
				continue
			}
			req, err := f.Pools().Orders.Get(ctx)
			if err != nil && ctx.Err() != nil {
				break loop // interrupted
			}
			if err != nil {
				return err
			}
			req.Venue, req.Symbol, req.Side, req.Type, req.Qty = schema.VenueBinance, "BTC-USDT", schema.SideBuy, schema.OrderTypeMarket, schema.MustParseDecimal("0.002")
			_ = req.ClientOrderID.Set(fmt.Sprintf("slow-%d", sent))
			_, err = f.Place(ctx, req)
			f.Pools().Orders.Put(req)
			if err != nil && ctx.Err() != nil {
				break loop // interrupted: the order may or may not be taken
			}
			if err != nil {
				return err
			}
			sent++
		}
	}
	tick.Stop()

	// Once the venue has taken every order (market orders fill at once),
	// every execution report it sent must reach both subscribers.
	caughtUp := time.After(time.Minute) // a generous deadline for a busy machine, not a measurement
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	venueStats := func() venuesim.Stats {
		if venue == nil {
			return venuesim.Stats{}
		}
		return venue.Stats()
	}
	for venueStats().Orders < uint64(sent) {
		select {
		case <-caughtUp:
			return fmt.Errorf("the venue took %d of %d orders", venueStats().Orders, sent)
		case <-poll.C:
		}
	}
	venueSent := int(venueStats().ExecReports)
	want := func() int { return venueSent }
	for fast.execCount() < want() || slowT.execCount() < want() {
		select {
		case <-caughtUp:
			return fmt.Errorf("execution reports: venue sent %d, fast got %d, slow got %d", want(), fast.execCount(), slowT.execCount())
		case <-poll.C:
		}
	}
	stop()
	closeErr := closeFeed()
	// After Close every queued event was delivered (or counted as
	// discarded), so the counters and the tallies agree.
	fst, sst := fastSub.Stats(), slowSub.Stats()

	fmt.Fprintf(out, "\n%-28s %12s %12s\n", "", "fast", "slow")
	row := func(name string, a, b any) { fmt.Fprintf(out, "%-28s %12v %12v\n", name, a, b) }
	for _, et := range []schema.EventType{schema.EventTrade, schema.EventBBO, schema.EventBookUpdate, schema.EventExecReport, schema.EventGap} {
		row("received "+et.String(), fast.byType[et], slowT.byType[et])
	}
	row("coalesced (latest wins)", fst.Coalesced, sst.Coalesced)
	row("dropped (ordered lane)", fst.Dropped, sst.Dropped)
	row("events lost per gap markers", fast.gapCount, slowT.gapCount)
	row("worst lag", fst.WorstLag.Round(time.Microsecond), sst.WorstLag.Round(time.Microsecond))
	fp50, fmax := fast.waits()
	sp50, smax := slowT.waits()
	row("execution report wait p50", fp50.Round(time.Microsecond), sp50.Round(time.Microsecond))
	row("execution report wait max", fmax.Round(time.Microsecond), smax.Round(time.Microsecond))
	slowData := slowT.total.Load() - int64(slowT.byType[schema.EventGap])
	fmt.Fprintf(out, "\nslow subscriber: %d deliveries, %d of them data, %d gap markers\n", slowT.total.Load(), slowData, slowT.byType[schema.EventGap])
	fmt.Fprintf(out, "\norders placed %d; venue sent %d execution reports\n", sent, want())
	lost := (want() - fast.execCount()) + (want() - slowT.execCount())
	fmt.Fprintf(out, "execution reports lost: %d, out of order: %d\n", lost, fast.outOfSeq+slowT.outOfSeq)
	if sst.Dropped != slowT.gapCount {
		return fmt.Errorf("slow subscriber: %d dropped but gap markers account for %d", sst.Dropped, slowT.gapCount)
	}
	if closeErr != nil {
		return closeErr
	}
	fmt.Fprintf(out, "leak check: %d outstanding\n", f.Outstanding())
	return nil
}
