// Replay runs Meltica's main job on a real recorded venue session, offline:
// a simulated venue serves the recording over a real WebSocket on loopback,
// and the whole pipeline — wsclient → normalize's Kraken parser →
// normalize/book books → dispatch — runs on it. Every book is kept by
// Kraken's rule and every update's CRC32 checksum is recomputed from the
// book and compared; the summary counts them.
//
// The shipped session (testdata/recordings, see SOURCES there) is Kraken's
// v1 book channel at depth 1000 for 10 pairs, recorded on 2021-04-17 by the
// public project bmoscon/cryptofeed.
//
// The wiring is internal/pipeline's (Replay, New, Connect): venuesim.StartReplay
// serves the file, a wsclient.Client reads it, normalize.NewKraken parses,
// book.Books keeps a book.KrakenV1 book per pair, made on its first snapshot,
// and a dispatch.Dispatcher delivers to a counting subscription. The same code
// serves `go run ./cmd/meltica replay`.
//
//	go run ./examples/replay
//	go run ./examples/replay -paced -speed 10 -print 20
//	go run ./examples/replay -file my-session.jsonl.zst -venue kraken -depth 10
//	go run ./examples/replay -file ../shared/recordings/COINBASE.ws.28.0.gz
//
// -file takes cryptofeed's sample_data sessions too, as they are (the
// venue from their recorded URL, or -venue).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/meltica/meltica/examples/internal/cli"
	"github.com/meltica/meltica/internal/flagval"
	"github.com/meltica/meltica/internal/pipeline"
	"github.com/meltica/meltica/schema"
)

// Session is the shipped recording, relative to the repository root.
const Session = "testdata/recordings/kraken-v1-book-2021-04-17.jsonl.zst"

func main() { cli.Main("replay", run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	file := fs.String("file", "", "recording to replay, Meltica's or a cryptofeed session (default: the shipped Kraken session)")
	venue := fs.String("venue", "", "venue of the recording (default: from its header)")
	depth := fs.Int("depth", 1000, "levels per side the books keep: the subscribed depth (the session's is 1000)")
	paced := fs.Bool("paced", false, "send at the recorded pace instead of as fast as possible")
	speed := fs.Float64("speed", 1, "with -paced: play this many times faster")
	show := fs.Int("print", 5, "how many events to print as they arrive (counting goes on)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := errors.Join(flagval.NonNegative("-depth", *depth), flagval.Speed("-speed", *speed), flagval.NonNegative("-print", *show)); err != nil {
		return err
	}
	out = cli.SyncWriter(out)
	path := *file
	if path == "" {
		var err error
		if path, err = findUp(Session); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "replaying %s\n", filepath.ToSlash(path))
	var printed atomic.Int64
	res, err := pipeline.Replay(ctx, pipeline.ReplayConfig{
		Files: []string{path},
		Venue: *venue,
		Depth: *depth,
		Paced: *paced,
		Speed: *speed,
		Config: pipeline.Config{OnEvent: func(ev *schema.CanonicalEvent) {
			if n := printed.Add(1); n <= int64(*show) {
				fmt.Fprintln(out, pipeline.Describe(ev))
			}
		}},
	})
	if err != nil && !res.Summary.Closed {
		return err // no pipeline ran (no such file, not a recording): nothing to sum up
	}
	fmt.Fprintf(out, "  recorded from %s (%s), %d frames\n", res.RecordedURL, res.Venue, res.Frames)
	fmt.Fprintf(out, "  served on %s -> wsclient -> normalize -> books -> dispatch\n", res.ServedURL)
	res.Summary.Print(out, res.Elapsed)
	pipeline.PrintBooks(out, res.Books)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "leak check: 0 outstanding")
	// Every checksum the venue sent verified; a venue that sends none
	// (Coinbase, Bybit) is no failure.
	return res.Summary.ErrChecksums()
}

// findUp looks for rel in the working directory and its parents, so the
// example runs from the repository root or from its own folder.
func findUp(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			if r, err := filepath.Rel(mustGetwd(), p); err == nil {
				return r, nil
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found: run from the repository", rel)
		}
		dir = parent
	}
}

func mustGetwd() string {
	wd, _ := os.Getwd()
	return wd
}
