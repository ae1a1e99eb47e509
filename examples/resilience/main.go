// Resilience injects every fault the simulated venue knows into a live
// pipeline, one after the other, and prints each state change and how long
// recovery took: a close, a TCP reset, a stall (idle watchdog), a half-open
// connection (pong timeout), garbage frames and an oversized frame
// (survived without reconnect: dropped and reported), a sequence gap in the depth stream (gap marker), the
// venue's shutdown notice (serverShutdown: the connection replaced before
// the cut) and the venue's maximum connection age (make-before-break
// rotation). Ctrl-C stops it where it is, with the leak check.
//
//	go run ./examples/resilience
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/examples/internal/cli"
	"github.com/meltica/meltica/internal/flagval"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

func main() { cli.Main("resilience", run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("resilience", flag.ContinueOnError)
	wait := fs.Duration("wait", 10*time.Second, "how long to wait for recovery from each fault")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := errors.Join(flagval.Positive("-wait", *wait)); err != nil {
		return err
	}
	out = cli.SyncWriter(out)
	venue := venuesim.Start(&venuesim.Options{Rate: 1000, OversizedBytes: 512 << 10})
	defer venue.Close()

	start := time.Now()
	symbols := []string{"BTC-USDT"}
	states := make(chan wsclient.Event, 256)
	f, err := session.Start(ctx, session.Config{
		Endpoints: cli.Endpoints(venue, session.Endpoints{}),
		Symbols:   symbols,
		Channels:  []string{"trade", "depth@100ms"},
		Client: wsclient.Options{
			// The venue's oversized frame is 512 KiB: over the limit, the
			// client reads it to its end and drops it, and the connection
			// stays up.
			ReadLimit: 128 << 10,
			// Tight enough to show each fault quickly, loose enough that a
			// busy machine (a CI runner at load 20) does not trip them by
			// itself: a spurious reconnect would fail the garbage,
			// oversized and rotation checks, and a pong timeout that fires
			// first hides the mechanism meant for the stall (a 1 s
			// PongTimeout did, on a starved single-CPU run).
			// Pings count in Binance's 5 incoming messages a second
			// (pongs and subscriptions too): the venue cuts a client that
			// pings ten times a second (1008), so two a second.
			PingInterval: 500 * time.Millisecond,
			PongTimeout:  3 * time.Second, // half-open: no pong within 3 s
			IdleTimeout:  6 * time.Second, // stall: pongs come, data does not
			BackoffBase:  20 * time.Millisecond,
			BackoffCap:   500 * time.Millisecond,
			ControlRate:  -1,
		},
		OnState: func(_ session.Conn, e wsclient.Event) {
			if e.State != schema.ConnUnknown {
				// One write a line: the gap markers' lines come from
				// another goroutine.
				var line strings.Builder
				fmt.Fprintf(&line, "  %7.3fs  %-7s  %-12s %s", time.Since(start).Seconds(), connName(e.ConnID), e.State, e.Reason)
				if e.Err != nil {
					fmt.Fprintf(&line, ": %v", e.Err)
				}
				if e.State == schema.ConnReconnecting {
					fmt.Fprintf(&line, " (attempt %d, wait %s)", e.Attempt, e.Delay.Round(time.Millisecond))
				}
				fmt.Fprintln(out, line.String())
			}
			select {
			case states <- e:
			default:
			}
		},
	})
	if err != nil {
		return err
	}
	var delivered atomic.Int64
	gaps := make(chan gapSeen, 16)
	onGap := gapHandler(out, symbols, gaps)
	_, err = f.Dispatcher().Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		onGap(ev)
		delivered.Add(1)
	}})
	if err != nil {
		return err
	}

	// flowing waits until n more events were delivered; every wait ends
	// with ctx too (Ctrl-C).
	flowing := func(n int64) error {
		target := delivered.Load() + n
		deadline := time.After(*wait)
		for delivered.Load() < target {
			select {
			case <-deadline:
				return errors.New("data did not flow")
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(2 * time.Millisecond):
			}
		}
		return nil
	}
	// reconnected waits for a newer connection: its Connected event, or
	// the client's counters (an event can be dropped: a full queue).
	reconnected := func(after uint64) error {
		deadline := time.After(*wait)
		for {
			select {
			case e := <-states:
				if e.State == schema.ConnConnected && e.ConnID > after {
					return nil
				}
			case <-time.After(2 * time.Millisecond):
				if cs := f.Stats().Market[0].Client; cs.State == schema.ConnConnected && cs.ConnID > after {
					return nil
				}
			case <-deadline:
				return errors.New("no reconnect")
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	closeSession := sync.OnceValue(func() error {
		// The deadline counts from the close, not from the start of the
		// drill (a slow drill on a busy machine left it none).
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second) // a deadline for a busy machine
		defer cancel()
		return f.Close(shutdownCtx)
	})
	defer func() { _ = closeSession() }() // on an early return; the close below reports its error
	if err := reconnected(0); err != nil {
		return err
	}
	if err := flowing(50); err != nil {
		return err
	}

	failures, checked := 0, 0
	for _, fault := range venuesim.Faults() {
		if ctx.Err() != nil {
			break // interrupted: no further fault
		}
		drainStates(states)
		cs := f.Stats().Market[0].Client
		fmt.Fprintf(out, "\nfault %q\n", fault)
		t0 := time.Now()
		var err error
		switch fault {
		case venuesim.FaultGarbage, venuesim.FaultOversized:
			venue.Inject(fault)
			if err = flowing(200); err == nil && f.Stats().Market[0].Client.ConnID != cs.ConnID {
				err = fmt.Errorf("reconnected on %s", fault)
			}
			if err == nil && fault == venuesim.FaultOversized && f.Stats().Market[0].Client.Oversized == cs.Oversized {
				err = errors.New("the oversized frame was not reported")
			}
			if err == nil {
				after := f.Stats().Market[0].Client
				if fault == venuesim.FaultOversized {
					fmt.Fprintf(out, "  survived: still connection %d, %d oversized message dropped and reported\n",
						after.ConnID, after.Oversized-cs.Oversized)
					break
				}
				fmt.Fprintf(out, "  survived: still connection %d, %d bad frames reported (%d invalid UTF-8, %d rejected by the parser)\n",
					after.ConnID, (after.InvalidFrames-cs.InvalidFrames)+(after.HandlerErrors-cs.HandlerErrors),
					after.InvalidFrames-cs.InvalidFrames, after.HandlerErrors-cs.HandlerErrors)
			}
		case venuesim.FaultDepthGap:
			drainGaps(gaps)
			venue.Inject(fault)
			err = skipped(ctx, gaps, *wait)
		default:
			venue.Inject(fault)
			if err = reconnected(cs.ConnID); err == nil {
				err = flowing(20)
			}
		}
		if err != nil && ctx.Err() != nil {
			fmt.Fprintf(out, "  interrupted\n")
			break
		}
		checked++
		if err != nil {
			failures++
			fmt.Fprintf(out, "  NOT RECOVERED: %v\n", err)
			continue
		}
		verb := "recovered"
		if fault == venuesim.FaultGarbage || fault == venuesim.FaultOversized || fault == venuesim.FaultDepthGap {
			verb = "handled"
		}
		fmt.Fprintf(out, "  %s in %s\n", verb, time.Since(t0).Round(time.Millisecond))
	}
	if err := closeSession(); err != nil {
		return err
	}
	leaked := f.Outstanding()
	if ctx.Err() != nil {
		fmt.Fprintf(out, "\nleak check: %d outstanding\n", leaked)
		return interrupted(ctx, checked, failures)
	}

	// The venue cuts connections at a maximum age; rotation replaces each
	// one before the cut, make-before-break.
	fmt.Fprintf(out, "\nfault \"max-age\": the venue cuts at 10s, the client rotates at 2s\n")
	rot, err := rotation(ctx, out, venue, start, 3*(*wait))
	if ctx.Err() != nil {
		fmt.Fprintf(out, "  interrupted\n\nleak check: %d outstanding\n", leaked+rot.leaked)
		return interrupted(ctx, checked, failures)
	}
	if err != nil {
		failures++
		fmt.Fprintf(out, "  NOT RECOVERED: %v\n", err)
	} else {
		fmt.Fprintf(out, "  %d rotations (%d unaligned), %d disconnects, %d trades, ids contiguous\n", rot.rotations, rot.unaligned, rot.disconnects, rot.trades)
		leaked += rot.leaked
	}
	fmt.Fprintf(out, "\n%d of %d faults recovered\n", len(venuesim.Faults())+1-failures, len(venuesim.Faults())+1)
	fmt.Fprintf(out, "leak check: %d outstanding\n", leaked)
	if failures > 0 {
		return fmt.Errorf("%d faults not recovered", failures)
	}
	return nil
}

// gapSeen is what the drill keeps of a gap marker: the event itself goes
// back to its pool when the handler returns.
type gapSeen struct {
	resync      []string // the symbols the marker says lost events
	first, last uint64   // the sequence range lost, when known
}

// gapHandler returns the subscription's handling of gap markers: each one
// of the venue is logged with the symbols it says lost events — all of
// them for a venue-wide marker (empty Symbol: a subscriber's queue past its
// bound of waiting markers, or a connection-wide sequence) — which a host
// resyncs, and handed to gaps (dropped when gaps is full).
func gapHandler(out io.Writer, symbols []string, gaps chan<- gapSeen) func(*schema.CanonicalEvent) {
	return func(ev *schema.CanonicalEvent) {
		resync := cli.GapSymbols(ev, schema.VenueBinance, symbols)
		if resync == nil {
			return
		}
		var c schema.Control // a marker without its section reads as zero
		if ev.Control != nil {
			c = *ev.Control
		}
		about := ev.Symbol
		if about == "" {
			about = "every symbol of " + string(ev.Venue)
		}
		ids := ""
		if c.GapFirstSeq != 0 {
			ids = fmt.Sprintf(", update ids %d..%d missing", c.GapFirstSeq, c.GapLastSeq)
		}
		fmt.Fprintf(out, "  gap marker: %s %s%s (%s); resync %s\n", about, c.GapType, ids, c.GapSource, strings.Join(resync, " "))
		select {
		case gaps <- gapSeen{resync: resync, first: c.GapFirstSeq, last: c.GapLastSeq}:
		default:
		}
	}
}

// skipped waits for the parser's marker of the depth ids the venue
// skipped: it names them (the book's own markers, a lost connection, do
// not).
func skipped(ctx context.Context, gaps <-chan gapSeen, wait time.Duration) error {
	deadline := time.After(wait)
	for {
		select {
		case g := <-gaps:
			if g.first != 0 {
				return nil
			}
		case <-deadline:
			return errors.New("no gap marker")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func drainGaps(c chan gapSeen) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// connName names a connection in the log: connections count from 1; the
// client's own events (connecting, closed) carry no connection.
func connName(id uint64) string {
	if id == 0 {
		return "client"
	}
	return fmt.Sprintf("conn %d", id)
}

func drainStates(c chan wsclient.Event) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

type rotationResult struct {
	rotations, unaligned, disconnects uint64
	trades, leaked                    int64
}

// rotation runs a second pipeline with rotation on against a venue that
// cuts connections at 10 s, and checks that trade ids stay contiguous. The
// client rotates at 2 s: eight seconds to bring up the replacement and
// align is room enough on a busy machine. The ids stay contiguous only
// when the switch is aligned: the old connection delivers up to a trade
// the new one also received. On a busy machine the old connection's reader
// (which parses and publishes each frame) can lag the new one (which only
// queues): by more than 100 ms, and on a starved single-CPU run by more
// than a second (its dial alone took 2.3 s); an overlap that short then
// switches unaligned (wsclient.Stats.Unaligned) and loses the trades the
// old one had not delivered yet. Three seconds of overlap still end before
// the venue's cut.
func rotation(ctx context.Context, out io.Writer, venue *venuesim.Venue, start time.Time, wait time.Duration) (rotationResult, error) {
	var res rotationResult
	venue.SetMaxConnAge(10 * time.Second)
	defer venue.SetMaxConnAge(0)
	var disconnects atomic.Uint64
	f, err := session.Start(ctx, session.Config{
		Endpoints: cli.Endpoints(venue, session.Endpoints{}), Symbols: []string{"ETH-USDT"}, Channels: []string{"trade"},
		Client: wsclient.Options{MaxAge: 2 * time.Second, RotationOverlap: 3 * time.Second},
		OnState: func(_ session.Conn, e wsclient.Event) {
			if e.State == schema.ConnRotating || e.State == schema.ConnDisconnected {
				fmt.Fprintf(out, "  %7.3fs  %-7s  %-12s %s\n", time.Since(start).Seconds(), connName(e.ConnID), e.State, e.Reason)
			}
			if e.State == schema.ConnDisconnected {
				disconnects.Add(1)
			}
		},
	})
	if err != nil {
		return res, err
	}
	var last, trades, breaks atomic.Int64
	_, err = f.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		id := int64(ev.SeqProvider)
		if prev := last.Load(); prev != 0 && id != prev+1 && id > prev {
			breaks.Add(1)
		}
		if id > last.Load() {
			last.Store(id)
			trades.Add(1)
		}
	}})
	if err != nil {
		return res, err
	}
	deadline := time.After(wait)
	for f.Stats().Market[0].Client.Rotations < 3 {
		select {
		case <-deadline:
			err = errors.New("fewer than 3 rotations")
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(5 * time.Millisecond):
			continue
		}
		break
	}
	res.disconnects = disconnects.Load()
	res.trades = trades.Load()
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second) // a deadline for a busy machine
	defer cancel()
	if cerr := f.Close(closeCtx); err == nil {
		err = cerr
	}
	// Rotations counted once closed: one under way after the third may
	// still have switched (and delivered) before the close.
	cs := f.Stats().Market[0].Client
	res.rotations, res.unaligned = cs.Rotations, cs.Unaligned
	res.leaked = f.Outstanding()
	if err == nil && (breaks.Load() > 0 || res.disconnects > 0) {
		err = fmt.Errorf("%d breaks in the trade ids, %d disconnects, %d of %d rotations unaligned", breaks.Load(), res.disconnects, res.unaligned, res.rotations)
	}
	return res, err
}

// interrupted is the error of a drill Ctrl-C stopped: it wraps the
// interrupt (context.Canceled: a clean stop, status 0) unless a fault
// went unrecovered before it, which still fails the run.
func interrupted(ctx context.Context, checked, failures int) error {
	err := fmt.Errorf("interrupted after %d of %d faults (%d not recovered)", checked, len(venuesim.Faults())+1, failures)
	if failures == 0 {
		return fmt.Errorf("%w: %w", err, context.Cause(ctx))
	}
	return err
}
