package dispatch

import (
	"context"
	"log/slog"
	"slices"
	"sync"

	"github.com/meltica/meltica/schema"
)

// MergedFilter selects merged events by symbol and type; an empty list
// matches everything on that axis.
type MergedFilter struct {
	Symbols []string
	Types   []schema.EventType
}

func (f *MergedFilter) match(m *schema.MergedEvent) bool {
	return (len(f.Symbols) == 0 || slices.Contains(f.Symbols, m.Symbol)) &&
		(len(f.Types) == 0 || slices.Contains(f.Types, m.Type))
}

// MergedOptions tune one merged subscription. A nil *MergedOptions gives
// the defaults.
type MergedOptions struct {
	// Handler, when set, is called with every merged event (a heap clone,
	// the handler's to keep) on the subscription's goroutine; when nil they
	// are sent on [MergedSubscription.C]. A panic in the handler is
	// recovered, counted in [MergedStats.Panics] and logged, as for
	// [SubscribeOptions.Handler]. Defaults to nil.
	Handler func(*schema.MergedEvent)
	// Bound is how many windows — merged events that are not a
	// [schema.MergedEvent.View], whatever their type — may wait; past it
	// the oldest window is dropped and counted (MergedStats.Dropped). The
	// consolidated view (the consolidated best bid/offer) is latest-wins
	// per (source, symbol, type) — [schema.MergedEvent.Source], one per
	// merge.Merger, so that two Mergers of one symbol each have their
	// latest view delivered: a newer one replaces the queued one in place,
	// keeping its place in line. It never counts
	// against Bound and is never dropped, so a subscriber always gets the
	// latest consolidated view, however far behind it is. Defaults to
	// DefaultOrderedBound.
	Bound int
}

// MergedStats is a snapshot of one merged subscription's counters.
type MergedStats struct {
	Delivered uint64 // merged events handed to the handler or received from C
	Coalesced uint64 // queued views replaced by a newer one
	Dropped   uint64 // windows dropped oldest-first past Bound (never a view)
	Discarded uint64 // queued events released at Unsubscribe or at a Close that timed out
	Depth     int    // events queued now
	// InHand is 1 while a merged event taken off the queue is being
	// handed over (inside the handler, or offered on C and not yet
	// received), in neither Depth nor Delivered; 0 otherwise. Every merged
	// event accepted is, in any one snapshot, Delivered, queued (Depth),
	// in hand, Coalesced, Dropped or Discarded.
	InHand int
	Panics uint64 // host code run for the subscription that panicked, recovered: its Handler (the event counts as delivered), and the Logger writing a record about it
}

// MergedSubscription is one subscriber's queue of merged events and its
// delivery goroutine: the MergedEvent lane. It follows the rules of the
// market-data lanes of a [Subscription] — a clone per subscriber, latest
// wins per (source, symbol, type) for views (schema.MergedEvent.View), windows dropped
// oldest-first among windows past the bound — delivered in arrival order
// from two lines (views, windows), so that queueing one costs O(1) however
// many wait. It is safe for concurrent use.
type MergedSubscription struct {
	d       *Dispatcher
	f       MergedFilter
	handler func(*schema.MergedEvent)
	ch      chan *schema.MergedEvent
	wake    chan struct{}
	abort   chan struct{}
	done    chan struct{}
	bound   int
	once    sync.Once

	mu      sync.Mutex
	state   subState
	views   ring[*mcell]       // queued views, in arrival order
	byKey   map[viewKey]*mcell // the same, by (source, symbol, type)
	windows ring[mcell]        // queued windows, in arrival order: the oldest is dropped
	seq     uint64             // arrival numbers: the two lines deliver in their order
	st      MergedStats        // InHand kept here too
	scanned uint64             // queued events looked at by enqueue, for tests
}

// mcell is a queued merged event and its arrival number. A view replaced
// in place keeps its cell, and so its place in line.
type mcell struct {
	m   *schema.MergedEvent
	seq uint64
}

// viewKey is what a view is latest-wins per.
type viewKey struct {
	source uint64
	symbol string
	typ    schema.EventType
}

// C returns the channel merged events are delivered on when the
// subscription has no Handler (nil otherwise); it is closed when the
// subscription ends.
func (s *MergedSubscription) C() <-chan *schema.MergedEvent { return s.ch }

// Done returns a channel closed when the subscription's goroutine has
// exited.
func (s *MergedSubscription) Done() <-chan struct{} { return s.done }

// Stats returns the subscription's counters.
func (s *MergedSubscription) Stats() MergedStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	st.Depth = s.views.len() + s.windows.len()
	return st
}

// SubscribeMerged starts a subscription to the merged events f selects
// (see [Dispatcher.PublishMerged]). opts may be nil. After Close it returns
// ErrClosed.
func (d *Dispatcher) SubscribeMerged(f MergedFilter, opts *MergedOptions) (*MergedSubscription, error) {
	var o MergedOptions
	if opts != nil {
		o = *opts
	}
	if o.Bound <= 0 {
		o.Bound = DefaultOrderedBound
	}
	s := &MergedSubscription{
		d: d, f: MergedFilter{Symbols: slices.Clone(f.Symbols), Types: slices.Clone(f.Types)},
		handler: o.Handler, bound: o.Bound,
		wake: make(chan struct{}, 1), abort: make(chan struct{}), done: make(chan struct{}),
		windows: newRing[mcell](min(o.Bound, 64)), views: newRing[*mcell](16),
		byKey: make(map[viewKey]*mcell),
	}
	if s.handler == nil {
		s.ch = make(chan *schema.MergedEvent)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return nil, ErrClosed
	}
	d.merged = append(slices.Clip(d.merged), s)
	d.mrunning[s] = struct{}{}
	go s.run()
	return s, nil
}

// UnsubscribeMerged ends s at once, releasing what it had queued; s.Done()
// tells when its goroutine has exited. After Close it still ends, once, a
// subscription still delivering: a channel subscription whose channel is
// not read to the end, and one whose handler unsubscribes itself while
// Close drains it. It returns ErrUnknownSubscription when s is not
// subscribed here, or was ended already.
func (d *Dispatcher) UnsubscribeMerged(s *MergedSubscription) error {
	if s == nil {
		return ErrUnknownSubscription
	}
	d.mu.Lock()
	var ok bool
	if d.merged, ok = without(d.merged, s); ok {
		d.mu.Unlock()
		s.stop()
		return nil
	}
	err := endAfterClose(d.closed.Load(), d.mrunning, s)
	d.mu.Unlock()
	return err
}

// PublishMerged takes ownership of m, a merged event checked out of
// Options.Merged, queues a heap clone for every merged subscription whose
// filter matches, and returns m to its pool before returning, on every
// path — as Publish does for canonical events. It never waits for a
// subscriber. It returns ErrNilEvent for nil, a [*NotPooledError] (and does
// not Put) for an event not checked out of Options.Merged (or when that
// option is unset), and ErrClosed once Close has begun.
func (d *Dispatcher) PublishMerged(_ context.Context, m *schema.MergedEvent) error {
	if m == nil {
		return ErrNilEvent
	}
	if d.mergedPool == nil || !d.mergedPool.Owns(m) {
		return &NotPooledError{Symbol: m.Symbol, Type: m.Type}
	}
	defer d.mergedPool.Put(m)
	d.mu.Lock()
	subs := d.merged
	d.mu.Unlock()
	if d.closed.Load() {
		return ErrClosed
	}
	var err error
	for _, s := range subs {
		if s.f.match(m) && !s.enqueue(m) && d.closed.Load() {
			// Refused by a subscription Close is draining: Close began
			// after the check above, and this subscriber never gets m.
			err = ErrClosed
		}
	}
	return err
}

// enqueue queues a clone of m; false means the subscription takes no more
// events (unsubscribed, or drained by Close).
func (s *MergedSubscription) enqueue(m *schema.MergedEvent) bool {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return false
	}
	// Views and windows wait in two lines, delivered in arrival order: a
	// view finds its queued one by its key, and the oldest window is the
	// head of its line. One line of both, looked through for the view to
	// replace or the window to drop under the lock every publish to the
	// subscription takes, was O(queued) per publish.
	s.scanned++
	s.seq++
	if m.View() {
		k := viewKey{m.Source, m.Symbol, m.Type}
		if old := s.byKey[k]; old != nil {
			old.m = m.Clone()
			s.st.Coalesced++
			s.mu.Unlock()
			signal(s.wake)
			return true
		}
		c := &mcell{m: m.Clone(), seq: s.seq}
		s.byKey[k] = c
		s.views.push(c)
	} else {
		if s.windows.len() >= s.bound {
			s.windows.pop()
			s.st.Dropped++
		}
		s.windows.push(mcell{m: m.Clone(), seq: s.seq})
	}
	s.mu.Unlock()
	signal(s.wake)
	return true
}

func (s *MergedSubscription) run() {
	defer func() {
		if s.ch != nil {
			close(s.ch)
		}
		s.mu.Lock()
		if s.st.InHand != 0 { // the handler's runtime.Goexit: handed to it, so delivered (as a panic)
			s.st.InHand = 0
			s.st.Delivered++
		}
		s.mu.Unlock()
		s.d.mu.Lock()
		delete(s.d.mrunning, s)
		// Still listed: the handler ended the goroutine with
		// runtime.Goexit. Unsubscribe it, and release what is left (also
		// while Close drains), as forget does for Subscription.
		merged, listed := without(s.d.merged, s)
		if listed {
			s.d.merged = merged
		}
		s.d.mu.Unlock()
		s.stop()
		close(s.done)
	}()
	for {
		m := s.next()
		if m == nil {
			return
		}
		if !deliver(m, s.handler, s.ch, s.abort, s.handlerPanicked) {
			s.mu.Lock()
			s.st.Discarded++
			s.st.InHand = 0
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		s.st.Delivered++
		s.st.InHand = 0
		s.mu.Unlock()
	}
}

func (s *MergedSubscription) next() *schema.MergedEvent {
	for {
		s.mu.Lock()
		if s.state == stateStopped {
			s.mu.Unlock()
			return nil
		}
		if m := s.popLocked(); m != nil {
			s.st.InHand = 1
			s.mu.Unlock()
			return m
		}
		draining := s.state == stateDraining
		s.mu.Unlock()
		if draining {
			return nil
		}
		// A plain receive, as Subscription's: stop signals wake too, so
		// the goroutine does not park on two channels every time it runs
		// dry.
		<-s.wake
	}
}

// handlerPanicked counts and logs a panic recovered from the handler.
func (s *MergedSubscription) handlerPanicked(m *schema.MergedEvent, v any, stack []byte) {
	s.countPanic()
	s.d.logPanic(s.countPanic, v, stack, slog.String("lane", "merged"), slog.String("event_type", m.Type.String()), slog.String("symbol", m.Symbol))
}

// countPanic counts a panic of host code run for s: its handler, or the
// Logger writing a record about it.
func (s *MergedSubscription) countPanic() {
	s.mu.Lock()
	s.st.Panics++
	s.mu.Unlock()
}

func (s *MergedSubscription) drain() { startDrain(&s.mu, &s.state, s.wake) }

// stopped reports whether stop was called.
func (s *MergedSubscription) stopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateStopped
}

// popLocked takes the next queued event in arrival order, or returns nil.
func (s *MergedSubscription) popLocked() *schema.MergedEvent {
	v, w := s.views.len() > 0, s.windows.len() > 0
	switch {
	case v && (!w || s.views.peek().seq < s.windows.peek().seq):
		m := s.views.pop().m
		delete(s.byKey, viewKey{m.Source, m.Symbol, m.Type})
		return m
	case w:
		return s.windows.pop().m
	}
	return nil
}

func (s *MergedSubscription) stop() uint64 {
	s.mu.Lock()
	s.state = stateStopped
	n := uint64(s.views.reset() + s.windows.reset())
	clear(s.byKey)
	s.st.Discarded += n
	s.mu.Unlock()
	signal(s.wake)                       // parked: it wakes, sees stateStopped and exits
	s.once.Do(func() { close(s.abort) }) // sending on ch: the send gives up
	return n
}
