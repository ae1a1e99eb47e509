package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/internal/flagval"
	"github.com/meltica/meltica/internal/pipeline"
	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// connFlags are the flags tail and record share.
type connFlags struct {
	venue, symbols, channel, url *string
	duration                     *time.Duration
	verbose                      *bool
}

func addConnFlags(fs *flag.FlagSet) connFlags {
	return connFlags{
		venue:    fs.String("venue", "binance", "venue: "+strings.Join(pipeline.VenueNames(), ", ")),
		symbols:  fs.String("symbols", "", "symbols, comma-separated, as the venue spells them (BTCUSDT, BTC/USD, BTC-USD)"),
		channel:  fs.String("channel", "", "the venue's channel name (default: its trade channel)"),
		url:      fs.String("url", "", "WebSocket URL (default: the venue's public endpoint)"),
		duration: fs.Duration("duration", 0, "stop after this long (default: until interrupted or -n)"),
		verbose:  fs.Bool("v", false, "log state changes and faults to stderr"),
	}
}

// connect starts a pipeline on a venue connection and runs it until frames
// or events are enough, the duration passed or ctx ended.
func (c connFlags) connect(ctx context.Context, cfg pipeline.Config, cc pipeline.ClientConfig, stderr io.Writer) (*pipeline.Pipeline, wsclient.Stats, error) {
	v, sub, err := c.subscription()
	if err != nil {
		return nil, wsclient.Stats{}, err
	}
	cc.URL = *c.url
	if cc.URL == "" {
		cc.URL = v.URL
	}
	cc.Subscriptions = [][]byte{sub}
	also := cc.OnState
	cc.OnState = func(e wsclient.Event) {
		if also != nil {
			also(e)
		}
		if e.Err != nil && e.State != schema.ConnClosed {
			fmt.Fprintf(stderr, "connection %d: %s: %v\n", e.ConnID, e.State, e.Err)
			return
		}
		fmt.Fprintf(stderr, "connection %d: %s\n", e.ConnID, e.State)
	}
	cfg.Venue, cfg.Logger = v, logger(stderr, *c.verbose)
	p, err := pipeline.New(cfg)
	if err != nil {
		return nil, wsclient.Stats{}, err
	}
	if *c.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *c.duration)
		defer cancel()
	}
	st, err := p.Connect(ctx, cc, v.Name)
	return p, st, err
}

// subscription is the venue and its subscribe message, or the error of
// flags that cannot make one (no symbol, a channel the venue refuses).
func (c connFlags) subscription() (pipeline.Venue, []byte, error) {
	v, err := pipeline.Lookup(*c.venue)
	if err != nil {
		return pipeline.Venue{}, nil, err
	}
	syms := splitList(*c.symbols)
	if len(syms) == 0 {
		return pipeline.Venue{}, nil, errors.New("-symbols: at least one symbol")
	}
	sub, err := v.Subscription(*c.channel, syms)
	return v, sub, err
}

// check refuses flag values that cannot mean anything.
func (c connFlags) check() error {
	if *c.duration < 0 {
		return fmt.Errorf("-duration %s: not a duration to run for", *c.duration)
	}
	if *c.url != "" {
		// Checked here, before record creates its file: wsclient would
		// refuse it only once the file was there.
		u, err := url.Parse(*c.url)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return fmt.Errorf("-url %q: not a ws:// or wss:// URL", *c.url)
		}
	}
	return nil
}

// noArgs refuses arguments after the flags: a symbol or a flag given after
// a stray word would otherwise be ignored without a word.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q (flags go before it; symbols go in -symbols)", fs.Name(), fs.Arg(0))
	}
	return nil
}

func closePipeline(ctx context.Context, p *pipeline.Pipeline) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return p.Close(ctx)
}

func tail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addConnFlags(fs)
	n := fs.Int("n", 0, "stop after this many market events (control events not counted; default: no limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := errors.Join(noArgs(fs), cf.check(), flagval.NonNegative("-n", *n)); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var seen atomic.Int64
	start := time.Now()
	p, _, err := cf.connect(ctx, pipeline.Config{OnEvent: func(ev *schema.CanonicalEvent) {
		if ev.Type == schema.EventControl || ev.Type == schema.EventConnState {
			fmt.Fprintln(stdout, pipeline.Describe(ev))
			return
		}
		got := seen.Add(1)
		if *n > 0 && got > int64(*n) {
			return // arrived while the connection closes: -n events exactly
		}
		fmt.Fprintln(stdout, pipeline.Describe(ev))
		if *n > 0 && got == int64(*n) {
			cancel()
		}
	}}, pipeline.ClientConfig{}, stderr)
	if p == nil {
		return err
	}
	err = errors.Join(err, closePipeline(ctx, p))
	s := p.Summary()
	s.Print(stderr, time.Since(start))
	s.PrintLeakCheck(stderr)
	return err
}

func record(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addConnFlags(fs)
	out := fs.String("o", "", "recording file; zstd-compressed when it ends in .zst (required)")
	maxBytes := fs.Int64("max-file-bytes", 0, "rotate after this many bytes of lines per file (default: one file)")
	n := fs.Uint64("n", 0, "stop after this many frames (default: no limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("record: -o is required")
	}
	if err := errors.Join(noArgs(fs), cf.check(), flagval.NonNegative("-max-file-bytes", *maxBytes)); err != nil {
		return err
	}
	// Every flag is checked before the file is created: a refused record
	// must not truncate an earlier recording of the same name.
	v, sub, err := cf.subscription()
	if err != nil {
		return err
	}
	url := *cf.url
	if url == "" {
		url = v.URL
	}
	rec, err := recorder.New(*out, &recorder.Options{
		Venue: v.Name, URL: url, Compress: strings.HasSuffix(*out, ".zst"), MaxFileBytes: *maxBytes,
		Logger: logger(stderr, *cf.verbose),
	})
	if errors.Is(err, iofs.ErrExist) {
		return fmt.Errorf("record: -o %s: a recording is already there, and is not written over (remove it or name another): %w", *out, err)
	}
	if err != nil {
		return err
	}
	pr := newProgress(stderr, "recording")
	start := time.Now()
	var sentLines, sentBytes atomic.Uint64
	// Every new connection is sent the subscription: the recording says
	// what was asked (a Kraken book's depth, for replay -depth), ahead of
	// the connection's first frame (see subNoter).
	subs := &subNoter{record: func(conn uint64, at int64) bool { return rec.RecordSent(conn, at, sub) }}
	noteSent := func(conn uint64, at int64) {
		if subs.note(conn, at) {
			sentLines.Add(1)
			sentBytes.Add(uint64(len(sub)))
		}
	}
	// The recording may end before the run (recorder.ErrPartTaken): then
	// the run stops too, rather than read on with nothing recorded.
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	p, _, err := cf.connect(rctx, pipeline.Config{}, pipeline.ClientConfig{
		Frames: *n,
		Tap: func(next func(context.Context, *schema.WsFrame) error) func(context.Context, *schema.WsFrame) error {
			tap := rec.Tap(next)
			return func(ctx context.Context, fr *schema.WsFrame) error {
				noteSent(fr.ConnID, fr.ReceivedAt)
				return tap(ctx, fr)
			}
		},
		Progress: func(got uint64) {
			pr.update(got, *n)
			if rec.Err() != nil {
				stop()
			}
		},
		OnState: func(e wsclient.Event) {
			if e.State == schema.ConnConnected && e.Err == nil {
				noteSent(e.ConnID, e.At.UnixNano())
			}
		},
	}, stderr)
	pr.end()
	err = errors.Join(err, rec.Close())
	if p != nil {
		err = errors.Join(err, closePipeline(ctx, p))
		s := p.Summary()
		s.Print(stderr, time.Since(start))
		s.PrintLeakCheck(stderr)
	}
	st := rec.Stats()
	received := st.Frames - min(sentLines.Load(), st.Frames)
	if (errors.Is(err, pipeline.ErrNeverConnected) || errors.Is(ctx.Err(), context.Canceled)) && received == 0 {
		// Nothing was recorded (no connection, or Ctrl-C before a frame
		// came): the file (its header, and the subscription sent) goes,
		// so that the name is free for the next run.
		for _, f := range rec.Files() {
			err = errors.Join(err, os.Remove(f))
		}
		fmt.Fprintln(stdout, "nothing recorded; no file left")
		return err
	}
	// Frames received; the subscriptions sent are in the files too.
	frames := st.Written - min(sentLines.Load(), st.Written)
	fmt.Fprintf(stdout, "recorded %d frames (%d bytes, %d dropped) to %s\n", frames, st.Bytes-sentBytes.Load(), st.Dropped, strings.Join(rec.Files(), " "))
	return err
}

func replay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	venue := fs.String("venue", "", "venue of the recording: "+strings.Join(pipeline.VenueNames(), ", ")+" (default: from its header)")
	depth := fs.Int("depth", 0, "levels per side the books keep: the subscribed depth, which Kraken's checksum needs (default: all)")
	direct := fs.Bool("direct", false, "feed the frames to the parser directly instead of over a loopback WebSocket")
	paced := fs.Bool("paced", false, "play at the recorded pace")
	speed := fs.Float64("speed", 1, "with -paced: this many times faster")
	maxGap := fs.Duration("max-gap", 0, "with -paced: wait at most this long between two frames (a clock stepped forward while recording, a silence); 0: as recorded")
	events := fs.Bool("events", false, "print every event")
	verbose := fs.Bool("v", false, "log state changes and faults to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("replay: name the recording's files")
	}
	if err := errors.Join(flagval.Speed("-speed", *speed), flagval.NonNegative("-depth", *depth), flagval.NonNegative("-max-gap", *maxGap)); err != nil {
		return err
	}
	cfg := pipeline.Config{Logger: logger(stderr, *verbose)}
	if *events {
		cfg.OnEvent = func(ev *schema.CanonicalEvent) { fmt.Fprintln(stdout, pipeline.Describe(ev)) }
	}
	pr := newProgress(stderr, "replay")
	res, err := pipeline.Replay(ctx, pipeline.ReplayConfig{
		Files: fs.Args(), Venue: *venue, Depth: *depth, Direct: *direct, Paced: *paced, Speed: *speed, MaxGap: *maxGap,
		Config: cfg, Progress: pr.update,
	})
	pr.end()
	if res.Venue == "" {
		return err
	}
	fmt.Fprintf(stdout, "replayed %s: recorded from %s (%s), %d frames", strings.Join(fs.Args(), " "), res.RecordedURL, res.Venue, res.Frames)
	if res.ServedURL != "" {
		fmt.Fprintf(stdout, ", served on %s", res.ServedURL)
	}
	fmt.Fprintln(stdout)
	res.Summary.Print(stdout, res.Elapsed)
	pipeline.PrintBooks(stdout, res.Books)
	res.Summary.PrintLeakCheck(stdout)
	if err == nil {
		if err = res.Summary.ErrChecksums(); err != nil && res.Summary.Mismatch == 0 {
			// No book went live: a book follows only its own depth's view.
			err = fmt.Errorf("%w: is -depth %d the depth the recording subscribed?", err, *depth)
		}
	}
	return err
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	paced := fs.Bool("paced", false, "send at the recorded pace")
	speed := fs.Float64("speed", 1, "with -paced: this many times faster")
	maxGap := fs.Duration("max-gap", 0, "with -paced: wait at most this long between two frames (a clock stepped forward while recording, a silence); 0: as recorded")
	verbose := fs.Bool("v", false, "log connections to stderr")
	venue := fs.String("venue", "", "with a cryptofeed session: its venue, "+strings.Join(pipeline.VenueNames(), ", ")+" (default: from its recorded URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("serve: name the recording's files")
	}
	if err := errors.Join(flagval.Speed("-speed", *speed), flagval.NonNegative("-max-gap", *maxGap)); err != nil {
		return err
	}
	files, cleanup, err := pipeline.Import(fs.Args(), *venue)
	if err != nil {
		return err
	}
	defer cleanup()
	srv, err := venuesim.StartReplay(files, &venuesim.ReplayOptions{Paced: *paced, Speed: *speed, MaxGap: *maxGap, Logger: logger(stderr, *verbose)})
	if err != nil {
		return err
	}
	defer srv.Close()
	if cut := srv.Cut(); cut != nil {
		fmt.Fprintf(stderr, "warning: the recording is cut short, as a recorder killed mid-write leaves it (%v): serving its whole lines\n", cut)
	}
	fmt.Fprintf(stdout, "serving %d frames of %s (recorded from %s) on %s until interrupted\n", srv.Frames(), srv.Venue(), srv.RecordedURL(), srv.URL())
	<-ctx.Done()
	st := srv.Stats()
	fmt.Fprintf(stdout, "served %d connections, %d frames\n", st.Connections, st.Sent)
	return nil
}

func sim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	symbols := fs.String("symbols", "BTCUSDT,ETHUSDT", "symbols, comma-separated, as Binance spells them (BTC-USDT is taken as BTCUSDT)")
	rate := fs.Int("rate", 1000, "market-data messages per second (at least 1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *rate < 1 {
		// venuesim takes 0 as its default rate: not what was asked.
		return fmt.Errorf("-rate %d: at least 1 message a second", *rate)
	}
	syms := splitList(strings.NewReplacer("-", "", "/", "").Replace(strings.ToUpper(*symbols)))
	if len(syms) == 0 {
		return errors.New("-symbols: at least one symbol")
	}
	for _, s := range syms {
		// A stream is named <symbol>@<kind>, the symbol in lowercase
		// letters and digits: any other could never be subscribed.
		if strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
			return fmt.Errorf("-symbols: %q: a Binance symbol is letters and digits (BTCUSDT)", s)
		}
	}
	v := venuesim.Start(&venuesim.Options{Symbols: syms, Rate: *rate})
	fmt.Fprintf(stdout, "simulated venue (%s, %d msg/s) until interrupted\n", strings.Join(v.Symbols(), ", "), *rate)
	fmt.Fprintf(stdout, "  market streams  %s  (and %s/ws/<stream>)\n", v.CombinedURL(), v.URL())
	fmt.Fprintf(stdout, "  REST            %s\n", v.RESTURL())
	fmt.Fprintf(stdout, "  WS-API          %s\n", v.APIURL())
	<-ctx.Done()
	st := v.Stats()
	v.Close()
	fmt.Fprintf(stdout, "simulated venue closed: %d connections, %d messages sent, %d orders\n", st.Connections, st.Sent, st.Orders)
	return nil
}
