// Package pipeline wires one venue through Meltica the way a host would —
// wsclient → normalize venue parser → normalize/book books → dispatch — and
// counts what went through, for the CLI (cmd/meltica) and the replay
// example. It is not public API: hosts wire the packages themselves.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Config configures a Pipeline.
type Config struct {
	Venue Venue
	// Books keeps an L2 book per symbol by the venue's rule, made on the
	// symbol's first snapshot. Ignored for a venue without a rule.
	Books bool
	// Depth is the levels per side the books keep (the subscribed depth,
	// which Kraken's checksum rule needs); 0 keeps all.
	Depth int
	// MaxSilence is the books' book.Options.MaxSilence: a live book
	// whose stream applied nothing that long (by Clock) reports not live,
	// publishes a gap marker with book.ReasonSilent and withdraws its
	// best bid/offer, until its stream's next message. Defaults to 0:
	// never.
	MaxSilence time.Duration
	// Clock times MaxSilence (the books' book.Options.Clock). Defaults
	// to wsclient.SystemClock().
	Clock wsclient.Clock
	// OnEvent receives every event the dispatcher delivers (a heap clone,
	// its to keep), on the subscription's goroutine. Optional.
	OnEvent func(*schema.CanonicalEvent)
	// Filter selects what OnEvent and the counts see. Defaults to all.
	Filter dispatch.Filter
	// Logger gets state changes (Info) and faults (Warn). Defaults to
	// silent.
	Logger *slog.Logger
}

// Pipeline is one venue's parser, books and dispatcher, and one counting
// subscription. Feed it frames with Handle (a wsclient.Handler); Close it.
type Pipeline struct {
	Pools      *schema.Pools
	Dispatcher *dispatch.Dispatcher
	Parser     Parser
	Sub        *dispatch.Subscription
	books      *bookKeeper
	log        *slog.Logger
	onEvent    func(*schema.CanonicalEvent)

	frames    atomic.Uint64
	closed    atomic.Bool        // Close was called
	delivered [256]atomic.Uint64 // by schema.EventType
}

// New builds a pipeline; nothing runs until frames are handed to Handle.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Venue.newParser == nil {
		return nil, errors.New("pipeline: no venue")
	}
	p := &Pipeline{Pools: schema.NewPools(nil), log: cfg.Logger, onEvent: cfg.OnEvent}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.Dispatcher = dispatch.New(p.Pools.Events, nil)
	var sink normalize.Sink = p.Dispatcher
	if cfg.Books && cfg.Venue.Rule != nil {
		rule := *cfg.Venue.Rule
		rule.Depth = cfg.Depth
		p.books = &bookKeeper{rule: rule, events: p.Pools.Events, sink: p.Dispatcher, log: p.log, silence: cfg.MaxSilence, clock: cfg.Clock}
		p.books.router = book.NewBooks(p.Dispatcher, p.Pools.Events, &book.BooksOptions{Logger: cfg.Logger})
		sink = p.books
	}
	p.Parser = cfg.Venue.newParser(p.Pools.Events, sink, nil)
	sub, err := p.Dispatcher.Subscribe(cfg.Filter, &dispatch.SubscribeOptions{
		Handler:      p.deliver,
		OrderedBound: 1 << 16,
	})
	if err != nil {
		return nil, err
	}
	p.Sub = sub
	return p, nil
}

func (p *Pipeline) deliver(ev *schema.CanonicalEvent) {
	p.delivered[ev.Type].Add(1)
	if p.onEvent != nil {
		p.onEvent(ev)
	}
}

// Handle normalises one frame: it has wsclient.Handler's signature.
func (p *Pipeline) Handle(ctx context.Context, fr *schema.WsFrame) error {
	p.frames.Add(1)
	return p.Parser.HandleFrame(ctx, fr)
}

// Frames is how many frames Handle was given.
func (p *Pipeline) Frames() uint64 { return p.frames.Load() }

// Books returns the books kept, nil without books.
func (p *Pipeline) Books() []*book.Book {
	if p.books == nil {
		return nil
	}
	return p.books.all()
}

// Close closes the books (their MaxSilence timers stop), lets the
// subscription deliver what is queued, stops the dispatcher and checks
// that every pooled object came back.
func (p *Pipeline) Close(ctx context.Context) error {
	if p.books != nil {
		p.books.router.Close() // their MaxSilence timers: none fires into the closed dispatcher
	}
	err := p.Dispatcher.Close(ctx)
	err = errors.Join(err, p.Pools.Shutdown(ctx))
	p.closed.Store(true)
	return err
}

// Summary is what went through a pipeline.
type Summary struct {
	Frames    uint64
	Parser    normalize.Stats
	Delivered map[schema.EventType]uint64
	Sub       dispatch.Stats
	Books     int    // books kept
	Live      int    // of them live at the end
	Checksums uint64 // venue checksums recomputed and matched
	Mismatch  uint64 // venue checksums that did not match
	Unchecked uint64 // updates with a checksum that reached no live book
	BookGaps  uint64 // gap markers the books published
	// Closed says the pipeline was closed when the summary was taken, and
	// Outstanding how many pooled objects were still checked out then:
	// the leak check, 0 when everything came back.
	Closed      bool
	Outstanding int64
}

// Summary counts what went through so far.
func (p *Pipeline) Summary() Summary {
	s := Summary{Frames: p.frames.Load(), Parser: p.Parser.Stats(), Sub: p.Sub.Stats(), Delivered: map[schema.EventType]uint64{}, Closed: p.closed.Load()}
	for _, ps := range p.Pools.Stats() {
		s.Outstanding += ps.InUse
	}
	for t := range p.delivered {
		if n := p.delivered[t].Load(); n > 0 {
			s.Delivered[schema.EventType(t)] = n
		}
	}
	if p.books != nil {
		s.Checksums = p.books.verified.Load()
		s.Mismatch = p.books.mismatched.Load()
		s.Unchecked = p.books.unchecked.Load()
		for _, b := range p.books.all() {
			s.Books++
			if b.Live() {
				s.Live++
			}
			s.BookGaps += b.Stats().Markers
		}
	}
	return s
}

// ErrChecksums is the error of a summary whose books were not verified:
// a venue checksum that did not match, or checksums sent and none verified
// (no book went live: a depth other than the subscribed one does that). A
// venue that sends no checksum (Coinbase, Bybit) is no error.
func (s Summary) ErrChecksums() error {
	switch {
	case s.Mismatch > 0:
		return fmt.Errorf("%d venue checksums did not match", s.Mismatch)
	case s.Unchecked > 0 && s.Checksums == 0:
		return fmt.Errorf("no venue checksum verified (%d not checked, %d of %d books live)", s.Unchecked, s.Live, s.Books)
	}
	return nil
}

// Print writes the summary, one fact a line.
func (s Summary) Print(w io.Writer, elapsed time.Duration) {
	fmt.Fprintf(w, "summary after %s\n", elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  frames            %d\n", s.Frames)
	fmt.Fprintf(w, "  venue messages    %d: %d events (%d control), %d unknown, %d parse errors\n",
		s.Parser.Messages, s.Parser.Events, s.Parser.Control, s.Parser.Unknown, s.Parser.Errors)
	fmt.Fprintf(w, "  delivered        ")
	for t := range schema.EventType(255) {
		if n := s.Delivered[t]; n > 0 {
			fmt.Fprintf(w, " %s %d,", t, n)
		}
	}
	fmt.Fprintf(w, " (%d dropped)\n", s.Sub.Dropped)
	if s.Books > 0 {
		fmt.Fprintf(w, "  books             %d kept, %d live at the end, %d gap markers\n", s.Books, s.Live, s.BookGaps)
		if s.Checksums+s.Mismatch+s.Unchecked > 0 {
			fmt.Fprintf(w, "  checksums         %d verified, %d mismatched, %d not checked\n", s.Checksums, s.Mismatch, s.Unchecked)
		} else {
			fmt.Fprintf(w, "  checksums         none: the venue sent none\n")
		}
	}
}

// PrintLeakCheck writes the leak check of a closed pipeline's summary,
// the last line a command prints; nothing before Close.
func (s Summary) PrintLeakCheck(w io.Writer) {
	if s.Closed {
		fmt.Fprintf(w, "leak check: %d outstanding\n", s.Outstanding)
	}
}

// bookKeeper is a Sink in front of book.Books that makes a book on the first
// snapshot of a symbol and counts the venue checksums the books verify.
type bookKeeper struct {
	rule   book.Rule
	events *pool.Pool[*schema.CanonicalEvent]
	sink   normalize.Sink
	router *book.Books
	log    *slog.Logger
	// The books' MaxSilence and its Clock.
	silence time.Duration
	clock   wsclient.Clock

	mu    sync.Mutex
	books []*book.Book

	verified, mismatched, unchecked atomic.Uint64
}

func (k *bookKeeper) all() []*book.Book {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]*book.Book(nil), k.books...)
}

// Publish implements normalize.Sink; it takes ownership of ev.
func (k *bookKeeper) Publish(ctx context.Context, ev *schema.CanonicalEvent) error {
	if ev.Type != schema.EventBookSnapshot && ev.Type != schema.EventBookUpdate {
		return k.router.Publish(ctx, ev)
	}
	b := k.router.Book(ev.Venue, ev.Symbol)
	if b == nil && ev.Type == schema.EventBookSnapshot {
		nb, err := book.NewBook(k.rule, ev.Symbol, &book.Options{Sink: k.sink, Events: k.events, MaxSilence: k.silence, Clock: k.clock})
		if err != nil {
			k.log.Warn("book not kept", "venue", string(ev.Venue), "symbol", ev.Symbol, "err", err)
		} else {
			k.router.Add(nb)
			k.mu.Lock()
			k.books = append(k.books, nb)
			k.mu.Unlock()
			b = nb
			k.log.Info("book kept", "venue", string(ev.Venue), "symbol", ev.Symbol)
		}
	}
	if ev.Type != schema.EventBookUpdate || !ev.Book.HasChecksum {
		return k.router.Publish(ctx, ev)
	}
	if b == nil { // an update before its symbol's first snapshot
		k.unchecked.Add(1)
		return k.router.Publish(ctx, ev)
	}
	before := b.Stats()
	venue, symbol := ev.Venue, ev.Symbol
	err := k.router.Publish(ctx, ev) // ev is gone after this
	after := b.Stats()
	switch {
	case after.ChecksumErrors > before.ChecksumErrors:
		k.mismatched.Add(1)
		k.log.Warn("book checksum mismatch", "venue", string(venue), "symbol", symbol)
	case after.Applied > before.Applied:
		k.verified.Add(1)
	default:
		k.unchecked.Add(1)
	}
	return err
}
