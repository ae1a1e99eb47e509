package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/recorder"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// ClientConfig configures Connect.
type ClientConfig struct {
	URL           string
	Subscriptions [][]byte
	// Frames stops the client once that many frames were handled (0: run
	// until ctx ends).
	Frames uint64
	// Tap wraps the pipeline's handler (a recorder's Tap). Optional.
	Tap func(func(context.Context, *schema.WsFrame) error) func(context.Context, *schema.WsFrame) error
	// OnState receives the client's state changes. Optional.
	OnState func(wsclient.Event)
	// Progress is called after each frame with the count so far, on the
	// reader goroutine. Optional.
	Progress func(frames uint64)
	// EventBuffer is the client's event queue (wsclient's EventBuffer):
	// events OnState is too slow to take past it are dropped. Defaults to
	// wsclient's.
	EventBuffer int
	// DialTimeout bounds each dial (wsclient's DialTimeout). Defaults to
	// wsclient's.
	DialTimeout time.Duration
}

// ErrNeverConnected is Connect's error when ctx ended before any
// connection to the venue was made (nothing listens, the upgrade is
// refused, the name does not resolve): zero frames then mean no venue, not
// a quiet market.
var ErrNeverConnected = errors.New("never connected")

// Connect runs a wsclient.Client against cfg.URL feeding the pipeline until
// cfg.Frames frames were handled or ctx ends, then closes it. It returns the
// client's final counters; ctx ending is not an error, unless no
// connection was ever made (ErrNeverConnected, with the last dial error;
// so is a permanent error, such as a 401, that ended it before one was)
// — but ctx cancelled (Ctrl-C) before the first dial failed or succeeded
// is the interrupt, an error matching context.Canceled.
func (p *Pipeline) Connect(ctx context.Context, cfg ClientConfig, venue schema.Venue) (wsclient.Stats, error) {
	var n atomic.Uint64
	enough := make(chan struct{})
	var once sync.Once
	var h wsclient.Handler = p.Handle
	if cfg.Tap != nil {
		h = cfg.Tap(h)
	}
	counted := func(ctx context.Context, fr *schema.WsFrame) error {
		got := n.Add(1)
		if cfg.Frames > 0 && got > cfg.Frames {
			// Frames that arrive while the client closes are neither
			// handled nor recorded: exactly cfg.Frames are.
			return nil
		}
		err := h(ctx, fr)
		if cfg.Progress != nil {
			cfg.Progress(got)
		}
		if cfg.Frames > 0 && got == cfg.Frames {
			once.Do(func() { close(enough) })
		}
		return err
	}
	var connected atomic.Bool
	var lastMu sync.Mutex
	var last error // the latest connection error, while never connected
	c, err := wsclient.New(cfg.URL, counted, &wsclient.Options{
		Venue:         venue,
		Frames:        p.Pools.Frames,
		Subscriptions: cfg.Subscriptions,
		EventBuffer:   cfg.EventBuffer,
		DialTimeout:   cfg.DialTimeout,
		OnEvent: func(e wsclient.Event) {
			switch {
			case e.State == schema.ConnConnected:
				connected.Store(true)
			case e.Err != nil && e.State != schema.ConnClosed:
				lastMu.Lock()
				last = e.Err
				lastMu.Unlock()
			}
			if cfg.OnState != nil {
				cfg.OnState(e)
			}
		},
	})
	if err != nil {
		return wsclient.Stats{}, err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(ctx) }()
	select {
	case <-enough:
	case <-ctx.Done():
	case err := <-runErr:
		runErr <- err // for the wait below: the same outcome, ctx ending or not
	}
	live := c.Stats().ConnID != 0
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.Close(closeCtx); err != nil {
		return c.Stats(), err
	}
	if live || n.Load() > 0 || madeConnection(c.Stats()) {
		// The Connected event is evidence, not the only one: a host slow
		// to take its events (OnState) loses some to the bounded queue.
		connected.Store(true)
	}
	// ErrClosed: Run had not begun when Close came (ctx ended at once).
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, wsclient.ErrClosed) {
		if !connected.Load() {
			// Run gave up on its own (a permanent error: 401, a bad URL).
			return c.Stats(), fmt.Errorf("%w to %s: %w", ErrNeverConnected, cfg.URL, err)
		}
		return c.Stats(), err
	}
	if !connected.Load() {
		lastMu.Lock()
		defer lastMu.Unlock()
		if errors.Is(ctx.Err(), context.Canceled) && (last == nil || errors.Is(last, wsclient.ErrClosed) || errors.Is(last, context.Canceled)) {
			// Interrupted (Ctrl-C) while the first dial was under way,
			// with no dial failed yet: no sign the venue is out of reach.
			return c.Stats(), fmt.Errorf("pipeline: interrupted before connecting to %s: %w", cfg.URL, ctx.Err())
		}
		if last == nil {
			return c.Stats(), fmt.Errorf("%w to %s", ErrNeverConnected, cfg.URL)
		}
		return c.Stats(), fmt.Errorf("%w to %s: %w", ErrNeverConnected, cfg.URL, last)
	}
	return c.Stats(), nil
}

// madeConnection reports whether the client's counters show a connection
// that was open: messages, or one lost for a reason only an open
// connection has (a failed dial, a permanent error or a close do not
// count).
func madeConnection(st wsclient.Stats) bool {
	if st.Messages > 0 || st.Rotations > 0 {
		return true
	}
	for _, r := range []wsclient.Reason{wsclient.ReasonPeerClosed, wsclient.ReasonReadError, wsclient.ReasonWriteError,
		wsclient.ReasonIdle, wsclient.ReasonPongTimeout, wsclient.ReasonOversized, wsclient.ReasonNoData} {
		if st.Reconnects[r] > 0 {
			return true
		}
	}
	return false
}

// ReplayConfig configures Replay.
type ReplayConfig struct {
	Files []string
	// Venue names an entry of Venues; empty takes the recording header's
	// venue (Kraken: v1 unless the recorded URL ends in /v2).
	Venue string
	Depth int
	// Direct feeds the frames to the parser without a socket
	// (recorder.Replay); by default a venuesim.Replay serves them over a
	// real WebSocket to a wsclient.Client.
	Direct bool
	Paced  bool
	Speed  float64
	MaxGap time.Duration // with Paced: the longest wait between two frames (0: as recorded)
	Config Config        // OnEvent, Filter, Logger; Venue, Books and Depth are set here
	// Progress is called after each frame with the count so far and the
	// total.
	Progress func(done, total uint64)
}

// ReplayResult is what Replay did.
type ReplayResult struct {
	Summary     Summary
	Venue       string
	RecordedURL string
	ServedURL   string // empty with Direct
	Frames      uint64 // frames in the recording
	Client      wsclient.Stats
	Elapsed     time.Duration
	Books       []BookTop
}

// BookTop is the best level of a book at the end.
type BookTop struct {
	Symbol string
	Live   bool
	BBO    schema.BBO
}

// Replay runs a recording through a pipeline with books kept, every venue
// checksum recomputed and counted, and shuts the pipeline down, checking
// that every pooled object came back. A recording cut short (a recorder
// killed mid-write) is replayed up to the cut and on, and the cut is the
// error (recorder.ErrFormat wrapping recorder.ErrCutShort), either way it
// is fed. A file in cryptofeed's sample_data
// format (../shared/recordings) is converted first, its venue rc.Venue or
// the one its recorded URL names.
func Replay(ctx context.Context, rc ReplayConfig) (ReplayResult, error) {
	var res ReplayResult
	files, cleanup, err := Import(rc.Files, rc.Venue)
	if err != nil {
		return res, err
	}
	defer cleanup()
	rc.Files = files
	r, err := recorder.Open(rc.Files...)
	if err != nil {
		return res, err
	}
	hdr := r.Header()
	r.Close()
	res.RecordedURL = hdr.URL
	name := rc.Venue
	if name == "" {
		name = VenueName(hdr)
	}
	v, err := Lookup(name)
	if err != nil {
		return res, err
	}
	res.Venue = name
	cfg := rc.Config
	cfg.Venue, cfg.Books, cfg.Depth = v, true, rc.Depth
	p, err := New(cfg)
	if err != nil {
		return res, err
	}
	start := time.Now()
	err = p.replay(ctx, rc, v, &res)
	res.Elapsed = time.Since(start)
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, b := range p.Books() {
		bbo, live := b.BBO()
		res.Books = append(res.Books, BookTop{Symbol: b.Symbol(), Live: live, BBO: bbo})
	}
	slices.SortFunc(res.Books, func(a, b BookTop) int { return strings.Compare(a.Symbol, b.Symbol) })
	err = errors.Join(err, p.Close(closeCtx))
	res.Summary = p.Summary()
	return res, err
}

func (p *Pipeline) replay(ctx context.Context, rc ReplayConfig, v Venue, res *ReplayResult) error {
	if rc.Direct {
		r, err := recorder.Open(rc.Files...)
		if err != nil {
			return err
		}
		defer r.Close()
		var progress func(uint64)
		if rc.Progress != nil {
			progress = func(n uint64) { rc.Progress(n, 0) }
		}
		st, err := recorder.Replay(ctx, r, p.Handle, &recorder.ReplayOptions{Venue: v.Name, Paced: rc.Paced, Speed: rc.Speed, MaxGap: rc.MaxGap, Progress: progress})
		res.Frames = st.Frames
		return err
	}
	srv, err := venuesim.StartReplay(rc.Files, &venuesim.ReplayOptions{Paced: rc.Paced, Speed: rc.Speed, MaxGap: rc.MaxGap, Logger: rc.Config.Logger})
	if err != nil {
		return err
	}
	defer srv.Close()
	res.ServedURL, res.Frames = srv.URL(), uint64(srv.Frames())
	if res.Frames == 0 {
		return srv.Cut() // nothing to wait for: Connect would run until ctx ends
	}
	var progress func(uint64)
	if rc.Progress != nil {
		progress = func(n uint64) { rc.Progress(n, res.Frames) }
	}
	res.Client, err = p.Connect(ctx, ClientConfig{URL: srv.URL(), Frames: res.Frames, Progress: progress}, v.Name)
	if err == nil && ctx.Err() == nil && p.Frames() < res.Frames {
		err = fmt.Errorf("pipeline: %d of %d frames received", p.Frames(), res.Frames)
	}
	if err == nil && ctx.Err() == nil {
		// A file cut short: its whole lines were served; the cut is
		// reported as a direct replay reports it.
		err = srv.Cut()
	}
	return err
}

// VenueName is the Venues entry for a recording's header: its venue, and
// for Kraken v1 unless the recorded URL is the v2 endpoint.
func VenueName(h recorder.Line) string {
	if h.Venue == string(schema.VenueKraken) && !strings.Contains(h.URL, "/v2") {
		return "kraken-v1"
	}
	return h.Venue
}
