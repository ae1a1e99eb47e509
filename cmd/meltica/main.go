// Command meltica tails, records and replays venue streams through
// Meltica's pipeline.
//
//	meltica tail   -venue kraken -symbols BTC/USD,ETH/USD -channel trade
//	meltica record -venue binance -symbols BTCUSDT -channel trade -o session.jsonl.zst -duration 1m
//	meltica replay session.jsonl.zst
//	meltica replay testdata/recordings/kraken-v1-book-2021-04-17.jsonl.zst
//	meltica replay ../shared/recordings/KRAKEN.ws.50.0
//	meltica serve  -paced testdata/recordings/kraken-v1-book-2021-04-17.jsonl.zst
//	meltica sim    -symbols BTCUSDT,ETHUSDT -rate 1000
//
// tail prints a venue's normalized events as they arrive. record writes the
// raw frames of a venue connection, with their receive time and connection
// id, and the subscription sent on each connection (a sent line: what was
// asked, such as a Kraken book's depth), to a recording (package recorder;
// zstd when the name ends in .zst); it checks its flags before it creates
// the file, never writes over an earlier recording (an existing -o, or a
// part of one with -max-file-bytes, is refused), and Ctrl-C ends it with
// every frame it reports in the file.
// replay serves a recording over a real WebSocket on loopback (package
// venuesim) and runs the whole pipeline on it — wsclient, the venue parser,
// books kept by the venue's rule with every checksum verified, dispatch —
// printing a progress line, the events if asked, and a summary; it takes
// cryptofeed's sample_data sessions too (../shared/recordings), the venue
// from their recorded URL or -venue, as serve does. tail,
// record and replay end on the leak check ("leak check: 0 outstanding":
// every pooled object came back once the pipeline closed), Ctrl-C
// included. serve
// only serves a recording, for a client of your own (or tail -url). sim
// runs the simulated Binance (package venuesim: market streams, REST,
// WS-API orders) on loopback and prints its URLs, until interrupted.
//
// tail and record take -url to connect elsewhere than the venue's public
// endpoint (a venuesim, a proxy, a serve); every subcommand takes -h for its
// flags.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/meltica/meltica/internal/exit"
)

func main() {
	code, err := exit.Run(func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	})
	if code != 0 {
		fmt.Fprintln(os.Stderr, "meltica:", err)
		os.Exit(code)
	}
}

const usage = `usage: meltica <command> [flags]

commands:
  tail     print a venue's normalized events for some symbols, live
  record   record a venue's raw frames to a file
  replay   run a recording through the whole pipeline and summarise it
  serve    serve a recording over a WebSocket on loopback, as its venue would
  sim      run the simulated Binance (package venuesim) on loopback, for tail -url or a bot

"meltica <command> -h" lists a command's flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	stdout, stderr = &syncWriter{w: stdout}, &syncWriter{w: stderr}
	switch args[0] {
	case "tail":
		return tail(ctx, args[1:], stdout, stderr)
	case "record":
		return record(ctx, args[1:], stdout, stderr)
	case "replay":
		return replay(ctx, args[1:], stdout, stderr)
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "sim":
		return sim(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// logger writes the library's slog records to w at level, or nowhere.
func logger(w io.Writer, verbose bool) *slog.Logger {
	if !verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// progress prints a one-line progress indicator, rewritten in place at
// most five times a second, and its final state at the end.
type progress struct {
	w           io.Writer
	label       string
	mu          sync.Mutex
	done, total uint64
	start, last time.Time
}

func newProgress(w io.Writer, label string) *progress {
	return &progress{w: w, label: label, start: time.Now()}
}

// update records the count so far (total 0: unknown) and prints it when
// the last print is old enough.
func (p *progress) update(done, total uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.total = done, total
	if now := time.Now(); now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		p.printLocked()
	}
}

func (p *progress) printLocked() {
	if p.total > 0 {
		fmt.Fprintf(p.w, "\r%s %d/%d frames %3d%% %s", p.label, p.done, p.total, p.done*100/p.total, time.Since(p.start).Round(time.Millisecond))
		return
	}
	fmt.Fprintf(p.w, "\r%s %d frames %s", p.label, p.done, time.Since(p.start).Round(time.Millisecond))
}

// end prints the final count and ends the line.
func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done > 0 {
		p.printLocked()
		fmt.Fprintln(p.w)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
