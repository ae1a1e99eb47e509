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
	Panics    uint64 // handler calls that panicked (recovered; the event counts as delivered)
}

// MergedSubscription is one subscriber's queue of merged events and its
// delivery goroutine: the MergedEvent lane. It follows the rules of the
// market-data lanes of a [Subscription] — a clone per subscriber, latest
// wins per (source, symbol, type) for views (schema.MergedEvent.View), windows dropped
// oldest-first among windows past the bound — in one FIFO, as merged
// events are few. It is safe for concurrent use.
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

	mu    sync.Mutex
	state subState
	q     ring[*schema.MergedEvent]
	nwin  int // windows (events not views) in q
	st    MergedStats
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
	st.Depth = s.q.len()
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
		q: newRing[*schema.MergedEvent](min(o.Bound, 64)),
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
	if m.View() {
		for i := range s.q.n {
			j := (s.q.head + i) % len(s.q.buf)
			if old := s.q.buf[j]; old.View() && old.Source == m.Source && old.Symbol == m.Symbol && old.Type == m.Type {
				s.q.buf[j] = m.Clone()
				s.st.Coalesced++
				s.mu.Unlock()
				signal(s.wake)
				return true
			}
		}
	} else {
		if s.nwin >= s.bound {
			s.dropOldestWindowLocked()
		}
		s.nwin++
	}
	s.q.push(m.Clone())
	s.mu.Unlock()
	signal(s.wake)
	return true
}

func (s *MergedSubscription) run() {
	defer func() {
		if s.ch != nil {
			close(s.ch)
		}
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
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		s.st.Delivered++
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
		if s.q.len() > 0 {
			m := s.q.pop()
			if !m.View() {
				s.nwin--
			}
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
	s.mu.Lock()
	s.st.Panics++
	s.mu.Unlock()
	s.d.logPanic(v, stack, slog.String("lane", "merged"), slog.String("event_type", m.Type.String()), slog.String("symbol", m.Symbol))
}

func (s *MergedSubscription) drain() { startDrain(&s.mu, &s.state, s.wake) }

// stopped reports whether stop was called.
func (s *MergedSubscription) stopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateStopped
}

func (s *MergedSubscription) stop() uint64 {
	s.mu.Lock()
	s.state = stateStopped
	n := uint64(s.q.reset())
	s.nwin = 0
	s.st.Discarded += n
	s.mu.Unlock()
	signal(s.wake)                       // parked: it wakes, sees stateStopped and exits
	s.once.Do(func() { close(s.abort) }) // sending on ch: the send gives up
	return n
}

// dropOldestWindowLocked removes the oldest window from the queue, however
// many views wait ahead of it: the views move up one slot, in
// order, and keep their place in line.
func (s *MergedSubscription) dropOldestWindowLocked() {
	r := &s.q
	at := func(i int) int { return (r.head + i) % len(r.buf) }
	i := 0
	for ; i < r.n && r.buf[at(i)].View(); i++ {
	}
	if i == r.n {
		return
	}
	for ; i > 0; i-- {
		r.buf[at(i)] = r.buf[at(i-1)]
	}
	r.pop() // the head slot, a duplicate now
	s.nwin--
	s.st.Dropped++
}
