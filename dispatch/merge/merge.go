package merge

import (
	"context"
	"errors"
	"slices"
	"sync"
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
// nothing to.
type Incomplete uint8

// Incomplete windows.
const (
	// Flag publishes it with Complete false and the absent venues in
	// Missing.
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

// Options configure a Merger. Symbol, Venues, Sink and Merged are
// required; New copies the struct before applying defaults.
type Options struct {
	Symbol string         // the canonical symbol merged
	Venues []schema.Venue // the venues expected; events of others are ignored
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
	// Incomplete says whether a window missing a venue is flagged (the
	// default) or suppressed. Windowed only.
	Incomplete Incomplete

	// Staleness is how long a venue's side counts after its last update:
	// a venue that goes silent leaves the consolidated best bid/offer then,
	// at the latest on the next Tick. Defaults to DefaultStaleness (5 s).
	// Continuous only.
	Staleness time.Duration

	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// Stats counts what a Merger did.
type Stats struct {
	Fragments   uint64 // fragments taken into windows
	Windows     uint64 // windows closed
	Published   uint64 // merged events published
	Incomplete  uint64 // windows closed with a venue missing
	Suppressed  uint64 // incomplete windows suppressed
	LateDropped uint64 // fragments for a window already closed
	Expired     uint64 // venue sides dropped for staleness
	Invalidated uint64 // venue quotes dropped on a gap or a lost connection
	PoolDropped uint64 // continuous updates dropped on an exhausted pool
}

// quote is a venue's side in continuous mode.
type quote struct {
	price, qty schema.Decimal
	at         time.Time // when it was last updated, by the merger's clock
	ok         bool
	exTS, inTS int64
	seq        uint64
}

type venueState struct {
	venue    schema.Venue
	bid, ask quote
	seen     bool // windowed: a fragment of this venue in the open window
}

// Merger merges one symbol's events from several venues into
// schema.MergedEvents. Feed it events with Add — typically as the Handler
// of a dispatch subscription to the symbol — and call Tick now and then (or
// Run) so that windows close and silent venues expire when no event comes.
//
// A Merger is safe for concurrent use and starts no goroutine; its zero
// value is not usable: build it with New.
type Merger struct {
	o Options

	mu      sync.Mutex
	venues  []venueState
	stats   Stats
	mergeID uint64
	// windowed
	open      bool
	openTS    int64 // first fragment's time, Unix ns
	closedTo  int64 // end of the last closed window; earlier fragments are late
	frags     []schema.Fragment
	lateSince uint64 // late fragments since the last published window
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
	o.Venues = slices.Clone(o.Venues)
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
	m := &Merger{o: o, frags: make([]schema.Fragment, 0, min(o.MaxEvents, 1024))}
	for _, v := range o.Venues {
		m.venues = append(m.venues, venueState{venue: v})
	}
	return m, nil
}

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
// another symbol or an unexpected venue are ignored. In continuous mode a
// best bid/offer updates its venue's quote, and a gap marker or a lost
// connection of a venue removes its quote. The error is the sink's.
func (m *Merger) Add(ctx context.Context, ev *schema.CanonicalEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.venue(ev.Venue)
	if vs == nil || (ev.Symbol != m.o.Symbol && ev.Symbol != "") {
		return nil
	}
	if m.o.Mode == Continuous {
		return m.addQuoteLocked(ctx, vs, ev)
	}
	if ev.Symbol == "" || ev.Type != m.o.Type {
		return nil
	}
	return m.addFragmentLocked(ctx, vs, ev)
}

// Tick closes a window whose time is up and expires silent venues'
// quotes, publishing what changed. Call it periodically (Run does).
func (m *Merger) Tick(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.o.Mode == Continuous {
		return m.publishBBOLocked(ctx)
	}
	if m.open && m.o.Now().UnixNano()-m.openTS >= int64(m.o.Window) {
		return m.closeWindowLocked(ctx, m.openTS+int64(m.o.Window))
	}
	return nil
}

// Flush closes the open window now, whatever its age. Windowed only.
func (m *Merger) Flush(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.open {
		return nil
	}
	return m.closeWindowLocked(ctx, m.o.Now().UnixNano())
}

// Run calls Tick every interval until ctx ends, on the caller's goroutine,
// and returns ctx's error.
func (m *Merger) Run(ctx context.Context, interval time.Duration) error {
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

// eventTime is an event's time for windows: the venue's, else the receive
// time.
func eventTime(ev *schema.CanonicalEvent) int64 {
	if ev.ExchangeTS != 0 {
		return ev.ExchangeTS
	}
	return ev.IngestTS
}

func (m *Merger) addFragmentLocked(ctx context.Context, vs *venueState, ev *schema.CanonicalEvent) error {
	ts := eventTime(ev)
	if ts < m.closedTo {
		m.stats.LateDropped++
		m.lateSince++
		return nil
	}
	var err error
	if m.open && ts-m.openTS >= int64(m.o.Window) {
		err = m.closeWindowLocked(ctx, m.openTS+int64(m.o.Window))
	}
	if !m.open {
		m.open, m.openTS = true, ts
	}
	vs.seen = true
	m.frags = append(m.frags, schema.Fragment{
		Venue: ev.Venue, Symbol: m.o.Symbol, Type: ev.Type, Seq: ev.SeqProvider,
		ExchangeTS: ev.ExchangeTS, IngestTS: ev.IngestTS,
		Price: ev.Trade.Price, Qty: ev.Trade.Qty,
		BidPrice: ev.BBO.BidPrice, BidQty: ev.BBO.BidQty, AskPrice: ev.BBO.AskPrice, AskQty: ev.BBO.AskQty,
	})
	m.stats.Fragments++
	if len(m.frags) >= m.o.MaxEvents {
		err = errors.Join(err, m.closeWindowLocked(ctx, ts+1))
	}
	return err
}

// closeWindowLocked publishes the open window (or suppresses it) and
// makes every fragment before end late.
func (m *Merger) closeWindowLocked(ctx context.Context, end int64) error {
	m.open = false
	m.closedTo = max(m.closedTo, end)
	m.stats.Windows++
	frags := m.frags
	m.frags = m.frags[:0]
	complete := true
	for i := range m.venues {
		complete = complete && m.venues[i].seen
	}
	defer func() {
		for i := range m.venues {
			m.venues[i].seen = false
		}
	}()
	if !complete {
		m.stats.Incomplete++
		if m.o.Incomplete == Suppress {
			m.stats.Suppressed++
			return nil
		}
	}
	out, err := m.o.Merged.Get(ctx)
	if err != nil {
		return err
	}
	m.mergeID++
	out.MergeID, out.Symbol, out.Type = m.mergeID, m.o.Symbol, m.o.Type
	out.WindowOpen, out.WindowClose = m.openTS, end
	out.Fragments = append(out.Fragments, frags...)
	for i := range m.venues {
		if !m.venues[i].seen {
			out.Missing = append(out.Missing, m.venues[i].venue)
		}
	}
	out.Complete = complete
	out.LateDropped, m.lateSince = m.lateSince, 0
	m.stats.Published++
	return m.o.Sink.PublishMerged(ctx, out)
}
