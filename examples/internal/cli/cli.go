// Package cli holds what the examples share that is not Meltica: running
// a command with a context that ends on Ctrl-C, and a writer safe for
// several goroutines.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/meltica/meltica/internal/exit"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// lockedWriter serialises writes from the callbacks' goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// SyncWriter returns w made safe for writes from several goroutines: the
// examples print from subscriber handlers and connection callbacks at once.
func SyncWriter(w io.Writer) io.Writer { return &lockedWriter{w: w} }

// Main runs an example: run gets a context that ends on Ctrl-C, the
// command-line arguments and standard output; an error is printed and the
// process exits with status 1. flag.ErrHelp (-h, whose usage the flag set
// has printed) is no failure: status 0, as a Go command's -h; nor is
// Ctrl-C, when the example shut down cleanly and its only errors are the
// interrupt's context.Canceled (see [exit.Status]).
func Main(name string, run func(ctx context.Context, args []string, out io.Writer) error) {
	code, err := exit.Run(func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.Stdout)
	})
	if code != 0 {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(code)
	}
}

// Parse parses an example's flags, and refuses any argument left after
// them: the examples take flags only, and a word meant as one ("live" for
// -live) must not run the example some other way.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		flags := 0
		fs.VisitAll(func(*flag.Flag) { flags++ })
		if flags == 0 {
			return fmt.Errorf("unexpected argument %q: %s takes none", fs.Arg(0), fs.Name())
		}
		return fmt.Errorf("unexpected argument %q: %s takes flags only (-h lists them)", fs.Arg(0), fs.Name())
	}
	return nil
}

// NoFlags is the run of an example that takes no flags: -h prints so,
// and any argument is refused before run is called.
func NoFlags(name string, run func(ctx context.Context, out io.Writer) error) func(context.Context, []string, io.Writer) error {
	return func(ctx context.Context, args []string, out io.Writer) error {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		if err := Parse(fs, args); err != nil {
			return err
		}
		return run(ctx, out)
	}
}

// Endpoints are the simulated venue's addresses, or live when v is nil.
func Endpoints(v *venuesim.Venue, live session.Endpoints) session.Endpoints {
	if v == nil {
		return live
	}
	return session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()}
}

// PrintPools writes pool statistics as a table.
func PrintPools(w io.Writer, stats []pool.Stats) {
	fmt.Fprintf(w, "  %-7s %8s %8s %8s %7s %6s %6s\n", "pool", "gets", "puts", "created", "in use", "peak", "waits")
	for _, s := range stats {
		fmt.Fprintf(w, "  %-7s %8d %8d %8d %7d %6d %6d\n", s.Name, s.Gets, s.Puts, s.Created, s.InUse, s.PeakInUse, s.Waits)
	}
}

// GapSymbols returns which of symbols (all of venue) a gap marker says lost
// events — those a host must resync (a book fetched again, a trade count
// restarted): the symbol the marker names, or every one of symbols when it
// names none. A marker with an empty Symbol is venue-wide: a subscriber's
// queue past its bound of waiting markers (dispatch's doc, "Gap markers of
// a slow subscriber"), or a venue whose sequence spans the connection
// (Coinbase's sequence_num). Nil when ev is no gap marker, is of another
// venue, or names a symbol not in symbols.
func GapSymbols(ev *schema.CanonicalEvent, venue schema.Venue, symbols []string) []string {
	if ev.Type != schema.EventGap || ev.Venue != venue {
		return nil
	}
	if ev.Symbol == "" {
		return symbols
	}
	for i, s := range symbols {
		if s == ev.Symbol {
			return symbols[i : i+1 : i+1]
		}
	}
	return nil
}

// LiveEndpoints are Binance's endpoints by name: "testnet" (the spot test
// network) or "production".
func LiveEndpoints(name string) (session.Endpoints, error) {
	switch name {
	case "testnet":
		return session.BinanceTestnet, nil
	case "production":
		return session.BinanceLive, nil
	}
	return session.Endpoints{}, fmt.Errorf("-endpoint %q: want testnet or production", name)
}
