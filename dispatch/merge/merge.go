package merge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Sink receives the merged events. PublishMerged takes ownership of the
// pooled event in every case. dispatch.Dispatcher implements it.
type Sink interface {
	PublishMerged(ctx context.Context, m *schema.MergedEvent) error
}

// Mode is what a Merger makes.
type Mode uint8

// Modes.
const (
	// Windowed collects the fragments of every venue into windows: a window
	// opens on the first fragment and closes after Options.Window or
	// Options.MaxEvents fragments, whichever comes first; it is published as
	// one MergedEvent of the fragments' Type.
	Windowed Mode = iota
	// Continuous keeps each venue's best bid/offer and publishes the
	// consolidated one — best bid and best ask across venues, with the venue
	// of each side — on every change, as a coalescable MergedEvent of Type
	// schema.EventBBO.
	Continuous
)

// Incomplete says what happens to a window some expected venue sent
// nothing to, or that lost events on the way (MergedEvent.Lost).
type Incomplete uint8

// Incomplete windows.
const (
	// Flag publishes it with Complete false, the absent venues in
	// Missing and the events lost in Lost.
	Flag Incomplete = iota
	// Suppress drops it (counted in Stats.Suppressed).
	Suppress
)

// Defaults.
const (
	DefaultWindow    = 10 * time.Second
	DefaultMaxEvents = 1000
	DefaultStaleness = 5 * time.Second
)

// Errors of New.
var (
	ErrNoSymbol = errors.New("merge: no symbol")
	ErrNoVenues = errors.New("merge: no venues")
	ErrNoSink   = errors.New("merge: Sink and Merged pool are required")
)

// ErrWindowWaiting is returned by [Merger.Flush] when a closed window still
// waits for the Merged pool after it (the pool exhausted: Stats.PoolDropped):
// the window is not lost yet, and a Flush, Tick or Add once an object is
// free publishes it; a window closing first loses it (Stats.WindowsLost).
var ErrWindowWaiting = errors.New("merge: a closed window waits for the Merged pool")

// Options configure a Merger. Symbol, Venues, Sink and Merged are
// required; New copies the struct before applying defaults.
type Options struct {
	Symbol string         // the canonical symbol merged
	Venues []schema.Venue // the venues expected (one named twice counts once); events of others are ignored
	Mode   Mode
	// Sink receives the merged events, taken from Merged.
	Sink   Sink
	Merged *pool.Pool[*schema.MergedEvent]

	// Type is the event type whose events become the fragments of a
	// window; a MergedEvent's fragments all share its type, so merging two
	// types takes two Mergers. Defaults to schema.EventTrade. Windowed only.
	Type schema.EventType
	// Window is how long a window stays open, from its first fragment's
	// time. Defaults to DefaultWindow (10 s). Windowed only.
	Window time.Duration
	// MaxEvents closes a window at that many fragments. Defaults to
	// DefaultMaxEvents (1000). Windowed only.
	MaxEvents int
	// Incomplete says whether a window missing a venue or events lost on
	// the way is flagged (the default) or suppressed. Windowed only.
	Incomplete Incomplete

	// Staleness is how long a venue's side counts after its last update:
	// a venue that goes silent leaves the consolidated best bid/offer then,
	// at the latest on the next Tick. A quote's age counts from the
	// earliest of its ExchangeTS (the venue's time of it), its IngestTS
	// (when it came off the wire) and its receipt by Add, those not set
	// (0) left out, on the clock Now: a quote that waited in a queue or
	// that a lagging venue sent late is that much older, and one already
	// Staleness old when it arrives never joins the view. A timestamp
	// after Now (a venue clock ahead of the host's) counts as its receipt:
	// a quote is never younger than that; so does one more than
	// Staleness + 1 min before Now, taken for another clock's (a replay of
	// a recording, a test's counter), as package book does with a stamp
	// more than a minute old. ExchangeTS and IngestTS are
	// Unix ns, so Now must be the clock that stamps IngestTS
	// (wsclient.Options.Clock) — and, for ExchangeTS, a host clock kept in
	// step with the venues' (NTP): a host clock ahead of a venue's by
	// more than Staleness (and less than a minute more) keeps that venue
	// out of the view (Missing, and a log line "stale"). Defaults to DefaultStaleness (5 s). Continuous
	// only.
	Staleness time.Duration

	// Now is the clock. Defaults to time.Now.
	Now func() time.Time

	// Logger receives the merger's state changes at Info (a venue leaving
	// or rejoining the consolidated view, windows turning incomplete or
	// complete again, the Merged pool available again) and its losses at
	// Warn (the Merged pool exhausted, a window lost, late fragments), with
	// the keys "symbol", "venue", "reason" and counts. It logs transitions,
	// never once per event. Defaults to nil: silent.
	Logger *slog.Logger
}

// Stats counts what a Merger did.
type Stats struct {
	Fragments   uint64 // fragments taken into windows
	Windows     uint64 // windows closed
	Published   uint64 // merged events the sink accepted (one it refuses is tried again)
	Incomplete  uint64 // windows closed with a venue missing or events lost
	Suppressed  uint64 // incomplete windows suppressed
	LateDropped uint64 // fragments for a window already closed
	Duplicates  uint64 // events the open window already held (same venue and sequence), not taken again
	Lost        uint64 // events of the windows' type lost on the way, by the gap markers received (MergedEvent.Lost)
	Expired     uint64 // venue sides dropped for staleness
	Invalidated uint64 // venue quotes dropped on a gap or a connection state other than connected
	Refused     uint64 // best bid/offers of a venue not connected, or received before its reconnection or its last gap marker
	// PoolDropped counts views that found the Merged pool exhausted when
	// due. None is lost for good: a consolidated best bid/offer is
	// published by the next Add or Tick that finds an object (the latest
	// then), a closed window waits for the next Add, Tick or Flush.
	PoolDropped uint64
	// WindowsLost counts closed windows dropped, oldest first, because a
	// newer window closed while they still waited for the Merged pool.
	WindowsLost uint64
}

// quote is a venue's side in continuous mode.
type quote struct {
	price, qty schema.Decimal
	at         time.Time // when its age counts from (quoteTime), by the merger's clock
	ok         bool
	exTS, inTS int64
	seq        uint64
}

type venueState struct {
	venue    schema.Venue
	bid, ask quote
	// down: the venue's last connection state was not connected; its
	// quotes are refused until it is connected again.
	down bool
	// upAt is the IngestTS of the venue's last ConnConnected event: a
	// quote received before it (still queued when the connection came
	// back) is stale and refused.
	upAt int64
	// lostAt is the IngestTS of the venue's last gap marker that took its
	// quote out: a quote received before it is from before the gap.
	lostAt int64
	// listed: the venue is in the consolidated view published last;
	// shownBid and shownAsk: its sides as that view's fragment shows them.
	listed             bool
	shownBid, shownAsk shownQuote
}

// Merger merges one symbol's events from several venues into
// schema.MergedEvents. Feed it events with Add — typically as the Handler
// of a dispatch subscription to the symbol — and call Tick now and then (or
// Run) so that windows close and silent venues expire when no event comes.
//
// A Merger is safe for concurrent use and starts no goroutine; its zero
// value is not usable: build it with New.
type Merger struct {
	o      Options
	log    *slog.Logger
	source uint64

	mu      sync.Mutex
	venues  []venueState
	stats   Stats
	mergeID uint64
	starved bool // the Merged pool was exhausted when a view was last due
	w       windows
	// continuous
	last     schema.MergedEvent // the consolidated view last published
	lastKnow bool
}

// New returns a Merger; see Options.
func New(opts *Options) (*Merger, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	switch {
	case o.Symbol == "":
		return nil, ErrNoSymbol
	case len(o.Venues) == 0:
		return nil, ErrNoVenues
	case o.Sink == nil || o.Merged == nil:
		return nil, ErrNoSink
	}
	// A venue named twice is one venue: a second entry would never be
	// quoted to and would leave every view and window incomplete.
	var venues []schema.Venue
	for _, v := range o.Venues {
		if !slices.Contains(venues, v) {
			venues = append(venues, v)
		}
	}
	o.Venues = venues
	if o.Type == schema.EventUnknown {
		o.Type = schema.EventTrade
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = DefaultMaxEvents
	}
	if o.Staleness <= 0 {
		o.Staleness = DefaultStaleness
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Merger{o: o, log: log.With("symbol", o.Symbol), source: sources.Add(1)}
	m.w.frags = make([]schema.Fragment, 0, min(o.MaxEvents, 1024))
	m.w.complete = true
	m.w.closedTo = math.MinInt64 // no window closed: nothing is late yet
	for _, v := range o.Venues {
		m.venues = append(m.venues, venueState{venue: v})
	}
	return m, nil
}

// sources numbers the Mergers of the process: each event a Merger makes
// carries its number in schema.MergedEvent.Source.
var sources atomic.Uint64

// Source returns the number the Merger's events carry in
// schema.MergedEvent.Source: unique within the process, never 0. The
// dispatcher coalesces views per (Source, Symbol, Type), so two Mergers of
// one symbol each have their latest view delivered.
func (m *Merger) Source() uint64 { return m.source }

// Stats returns the merger's counters.
func (m *Merger) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

func (m *Merger) venue(v schema.Venue) *venueState {
	for i := range m.venues {
		if m.venues[i].venue == v {
			return &m.venues[i]
		}
	}
	return nil
}

// Add takes one event into the merger; ev stays the caller's. Events of
// another symbol or an unexpected venue, and market data naming no symbol,
// are ignored. In continuous mode a
// best bid/offer updates its venue's quote, and a gap marker that may have
// cost the venue quotes (about the whole venue, or about the symbol's best
// bid/offer, book or every stream) or any
// connection state other than connected removes the venue's quote until
// it is connected again and quotes afresh. The error is the sink's.
func (m *Merger) Add(ctx context.Context, ev *schema.CanonicalEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.venue(ev.Venue)
	if vs == nil || (ev.Symbol != m.o.Symbol && ev.Symbol != "") || (ev.Symbol == "" && !ev.Type.Critical()) {
		// Another symbol's, or market data naming none: only connection
		// states and gap markers speak for a whole venue.
		return nil
	}
	if m.o.Mode == Continuous {
		return m.addQuoteLocked(ctx, vs, ev)
	}
	if ev.Type == schema.EventGap {
		m.addLossLocked(ev)
		return nil
	}
	if ev.Symbol == "" || ev.Type != m.o.Type {
		return nil
	}
	return m.addFragmentLocked(ctx, ev)
}

// Tick closes a window whose time is up, publishes a window or view that
// found the Merged pool exhausted earlier, and expires silent venues'
// quotes, publishing what changed. Call it periodically (Run does).
func (m *Merger) Tick(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.o.Mode == Continuous {
		return m.publishBBOLocked(ctx)
	}
	err := m.publishPendingLocked(ctx)
	if m.w.open && m.o.Now().UnixNano() >= m.deadlineLocked() {
		err = errors.Join(err, m.closeWindowLocked(ctx, m.deadlineLocked()))
	}
	return err
}

// Flush closes the open window now, whatever its age, and publishes it
// (with a window still waiting for the Merged pool). Windowed only. It
// returns the Sink's error, and ErrWindowWaiting when a closed window
// still waits for the Merged pool after it: a host flushing before it
// stops learns that a window would go unpublished, and may Flush again
// once an object is free.
func (m *Merger) Flush(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	err := m.publishPendingLocked(ctx)
	if m.w.open {
		// The window ends now, or at its deadline if that came first, but
		// never before one of its fragments.
		end := max(m.w.maxTS+1, min(m.o.Now().UnixNano(), m.deadlineLocked()))
		err = errors.Join(err, m.closeWindowLocked(ctx, end))
	}
	if m.w.pending {
		err = errors.Join(err, ErrWindowWaiting)
	}
	return err
}

// Run calls Tick every interval until ctx ends, on the caller's goroutine,
// and returns ctx's error; an interval that is not positive returns an
// error at once.
func (m *Merger) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("merge: Run interval %v is not positive", interval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			_ = m.Tick(ctx) // counted; a sink error concerns one event
		}
	}
}

// take returns a merged event from the pool without waiting (the merger
// holds its lock, and a stalled pool must not stall the subscription that
// feeds it), or nil when it is exhausted; both are logged on the
// transition.
func (m *Merger) take() *schema.MergedEvent {
	out, err := m.o.Merged.TryGet()
	if err != nil {
		m.stats.PoolDropped++
		if !m.starved {
			m.starved = true
			m.log.Warn("merge: Merged pool exhausted; the view is published once an object is free", "error", err)
		}
		return nil
	}
	if m.starved {
		m.starved = false
		m.log.Info("merge: Merged pool available again", "pool_dropped", m.stats.PoolDropped)
	}
	return out
}
