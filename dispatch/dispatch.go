package dispatch

import (
	"context"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// DefaultCloseWait is how long Close drains when its context has no
// deadline.
const DefaultCloseWait = 5 * time.Second

// Options tune a Dispatcher. A nil *Options gives the defaults.
type Options struct {
	// OnCriticalOverflow is called when a subscription's critical lane goes
	// over its CriticalBound: once on the way over, again only after the
	// lane has come back under it. Nothing is dropped; the lane grows. A
	// host typically logs it and, if the subscriber is stuck, Unsubscribes
	// it (which it may do from the callback). It runs on the publisher's
	// goroutine — the socket reader's, typically — inside Publish, before
	// the event has reached the subscriptions after s, so it must not
	// block and must not call Publish or Close. A panic in it is recovered,
	// counted in s's Stats.Panics and logged at Error, as a handler's is:
	// Publish goes on, the event reaches every other subscriber and returns
	// to its pool. Defaults to nil.
	OnCriticalOverflow func(s *Subscription, st Stats)
	// Merged is the pool PublishMerged returns merged events to. Defaults
	// to nil: PublishMerged refuses every event.
	Merged *pool.Pool[*schema.MergedEvent]
	// Logger receives the dispatcher's state changes, never one record per
	// event: a subscription that starts dropping market data (Warn, once
	// per slow spell, not per drop) and catches up again (Info, with how
	// many it dropped), a critical lane going over its bound (Warn, once
	// on the way over), and a Close that gave up draining (Warn). Records
	// carry "subscription_id" and "subscriber" (SubscribeOptions.Name).
	// Its handler is called on the publisher's goroutine inside Publish and
	// on the subscriptions' goroutines; a panic in it is recovered and
	// counted in the Stats.Panics of the subscription the record is about
	// (one in Close's record is not counted). Defaults to nil: silent.
	Logger *slog.Logger
}

// Dispatcher fans pooled events out to subscribers as heap clones. It is
// safe for concurrent use; its zero value is not usable: build it with New.
// It starts one goroutine per subscription, and one at a time, every 64
// Unsubscribes, that sweeps the learned routes and exits; Close stops them
// all.
type Dispatcher struct {
	events   *pool.Pool[*schema.CanonicalEvent]
	overflow func(*Subscription, Stats)
	log      *slog.Logger // nil: silent

	idx    atomic.Pointer[index]
	closed atomic.Bool

	mu      sync.Mutex
	subs    []*Subscription            // subscribed, in order
	running map[*Subscription]struct{} // goroutines not yet exited
	inlines map[*Subscription]struct{} // inline subscriptions not yet ended (they have no goroutine)
	nextID  uint64

	// The sweep of the routes (see unlist): at most one goroutine at a
	// time, which Close waits for. sweepDone is closed when it exits (nil:
	// none runs); sweepAgain asks it for one more pass. Under mu.
	sweepDone  chan struct{}
	sweepAgain bool

	mergedPool *pool.Pool[*schema.MergedEvent]
	merged     []*MergedSubscription            // subscribed, in order; copy-on-write
	mrunning   map[*MergedSubscription]struct{} // goroutines not yet exited
}

// New returns a dispatcher that returns published events to events. It
// panics when events is nil: a programming error.
func New(events *pool.Pool[*schema.CanonicalEvent], opts *Options) *Dispatcher {
	if events == nil {
		panic("dispatch: New with a nil events pool")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	d := &Dispatcher{
		events:   events,
		overflow: o.OnCriticalOverflow,
		log:      o.Logger,
		running:  make(map[*Subscription]struct{}),
		inlines:  make(map[*Subscription]struct{}),

		mergedPool: o.Merged,
		mrunning:   make(map[*MergedSubscription]struct{}),
	}
	d.idx.Store(newIndex(nil))
	return d
}

// Subscribe starts a subscription to the events f selects. opts may be nil.
// After Close it returns ErrClosed; for options that cannot work together
// (Inline without a Handler) an [*OptionsError].
func (d *Dispatcher) Subscribe(f Filter, opts *SubscribeOptions) (*Subscription, error) {
	var o SubscribeOptions
	if opts != nil {
		o = *opts
	}
	if o.Inline && o.Handler == nil {
		return nil, &OptionsError{Field: "Inline", Reason: "needs a Handler: an inline subscription's handler runs inside Publish, there is no channel"}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return nil, ErrClosed
	}
	d.nextID++
	s := newSubscription(d, d.nextID, f, o)
	d.subs = append(slices.Clip(d.subs), s)
	ix, _ := d.idx.Load().with(d.subs, change{s: s})
	d.idx.Store(ix)
	if s.in != nil {
		d.inlines[s] = struct{}{}
		return s, nil
	}
	d.running[s] = struct{}{}
	go s.run()
	return s, nil
}

// Unsubscribe ends s at once: it receives nothing more, what it had queued
// is released (counted in [Stats.Discarded]) and its goroutine exits as
// soon as it is not inside the handler; s.Done() tells when. Unsubscribe
// does not wait for that, so a handler may unsubscribe itself. After Close
// it still ends, once, a subscription still delivering: a channel
// subscription whose channel is not read to the end, and one whose handler
// unsubscribes itself while Close drains it (it gets nothing more). An
// inline subscription has no goroutine: from Unsubscribe's return no call
// of its handler starts, a call running on another goroutine (or the one
// Unsubscribe is called from) runs to its end, and Done is closed when
// none runs. It returns ErrUnknownSubscription when s is not subscribed here, or was
// ended already.
func (d *Dispatcher) Unsubscribe(s *Subscription) error {
	if s == nil {
		return ErrUnknownSubscription
	}
	d.mu.Lock()
	var ok bool
	if d.subs, ok = without(d.subs, s); ok {
		d.unlist(s)
		if s.in != nil {
			// A call still running keeps s among the inline subscriptions
			// until it returns (settleOutside), so that Close waits for it
			// as it waits for a queued handler unsubscribed mid-call.
			s.stopInline()
			if s.ended() {
				delete(d.inlines, s)
			}
			d.mu.Unlock()
			return nil
		}
		d.mu.Unlock()
		s.stop()
		return nil
	}
	err := endAfterClose(d.closed.Load(), d.running, s)
	d.mu.Unlock()
	return err
}

// unlist changes the index for s, just taken out of d.subs: the routes
// learned are kept, s taken out of them as their streams publish (see
// index). Called under d.mu. Every maxGone Unsubscribes it has the routes
// of the subscriptions gone swept (sweep).
func (d *Dispatcher) unlist(s *Subscription) {
	s.gone.Store(true)
	ix, due := d.idx.Load().with(d.subs, change{s: s, gone: true})
	d.idx.Store(ix)
	if due {
		d.sweep(ix)
	}
}

// sweep has the routes swept of the subscriptions gone (index.sweepGone),
// O(routes) — seconds at 165k routes on a loaded machine — on a goroutine
// of the dispatcher's, never on the caller's: an Unsubscribe may come from
// OnCriticalOverflow, inside Publish on the socket reader's goroutine,
// whose feed the sweep would stall for every subscriber (and from a
// handler, whose subscription it would hold up). One goroutine at most: a
// sweep asked for while one runs makes it sweep once more. It exits when
// done; Close waits for it (and cuts it short). Called under d.mu.
func (d *Dispatcher) sweep(ix *index) {
	if d.sweepDone != nil {
		d.sweepAgain = true
		return
	}
	done := make(chan struct{})
	d.sweepDone = done
	go func() {
		defer close(done)
		for {
			ix.sweepGone(&d.closed)
			d.mu.Lock()
			again := d.sweepAgain && !d.closed.Load()
			if !again {
				d.sweepDone = nil
			}
			d.sweepAgain = false
			d.mu.Unlock()
			if !again {
				return
			}
		}
	}()
}

// sweeping returns a channel closed once no sweep of the routes runs.
func (d *Dispatcher) sweeping() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sweepDone == nil {
		return closedChan
	}
	return d.sweepDone
}

var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// forget is called by a subscription's goroutine as it exits. A
// subscription still listed exits without Unsubscribe or Close: its handler
// called runtime.Goexit (as t.FailNow does in a test's handler). It is
// unsubscribed here, or Publish would go on queueing for a goroutine that
// is gone, and its critical lane, which never drops, would grow without
// end. Whatever is still queued — left by such a handler, also while Close
// drains — is released and counted, as Unsubscribe does; after a normal
// exit there is nothing to release.
func (d *Dispatcher) forget(s *Subscription) {
	d.mu.Lock()
	delete(d.running, s)
	if subs, listed := without(d.subs, s); listed {
		d.subs = subs
		d.unlist(s)
	}
	d.mu.Unlock()
	s.stop()
}

// Publish takes ownership of ev, an event checked out of the dispatcher's
// pool, and returns it to the pool before returning, on every path. Each
// subscription whose filter matches gets its own heap clone, queued in the
// lane of the event's class — or, for an inline subscription, handed to
// its handler here and now, in subscription order: Publish returns once
// every inline handler has returned. Publish never waits for a queued
// subscriber: a full ordered lane drops its oldest event, a coalescable event replaces the
// queued one of its stream, and a critical lane over its bound grows. So
// ctx is not consulted; it is there for the normalizer's Sink interface.
//
// It returns ErrNilEvent for nil, a [*NotPooledError] (and does not Put) for
// an event not checked out of the dispatcher's pool — a clone, one made with
// new, one already returned, or one of another pool — and ErrClosed once
// Close has begun.
func (d *Dispatcher) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	if ev == nil {
		return ErrNilEvent
	}
	if !d.events.Owns(ev) {
		return &NotPooledError{Venue: ev.Venue, Symbol: ev.Symbol, Type: ev.Type}
	}
	// Deferred: host code fanOut calls (the Logger, OnCriticalOverflow)
	// may end this goroutine with runtime.Goexit, which no recover stops,
	// and the original must still go back (contract 1).
	defer d.events.Put(ev)
	return d.fanOut(ev)
}

func (d *Dispatcher) fanOut(ev *schema.CanonicalEvent) error {
	// The index before the mark: Close marks the dispatcher closed and
	// then empties the index, so an index read first and "open" read after
	// it is the index of the subscribers Close drains — each takes the
	// event or refuses it (ErrClosed below). In the other order a Publish
	// could read "open" before the mark and the emptied index after it,
	// deliver to nobody and return nil.
	ix := d.idx.Load()
	if d.closed.Load() {
		return ErrClosed
	}
	if len(ix.subs) == 0 {
		return nil
	}
	subs := ix.route(keyOf(ev))
	if ev.Type == schema.EventGap {
		// A gap marker reaches the subscribers of the stream it reports on
		// as well as those of gap markers: a subscriber of book diffs hears
		// that its book broke. One that names no type (a whole connection,
		// a whole symbol) reports on every market data stream of its venue
		// (and symbol), whatever the type. One about book diffs reaches
		// the subscribers of book snapshots too: a view's snapshots and
		// diffs are one book, and a host that follows it by snapshots
		// alone (a fetched one, a book's tops) would keep the broken
		// book's last as current. union delivers to each subscriber once.
		switch t := ev.GapType(); t {
		case schema.EventGap:
		case schema.EventUnknown:
			subs = union(subs, ix.route(routeKey{venue: ev.Venue, symbol: ev.Symbol, anyType: true}))
		case schema.EventBookUpdate:
			subs = union(union(subs, ix.route(streamKey(ev, t))), ix.route(streamKey(ev, schema.EventBookSnapshot)))
		default:
			subs = union(subs, ix.route(streamKey(ev, t)))
		}
	}
	f := fan{subs: subs, cl: newClones(ev, len(subs))}
	d.offer(&f)
	return f.err
}

// fan is one Publish's way through the subscribers of its event.
type fan struct {
	subs []*Subscription
	cl   clones
	i    int   // the next subscription to offer the event to
	err  error // ErrClosed once a draining subscription refused it
	done bool
}

// offer queues the event for f's subscribers from f.i on, reporting their
// transitions to the host. The host code a report runs may end the
// goroutine with runtime.Goexit (t.FailNow in a test's callback): offer
// then goes on, deferred, with the subscribers after the one reported on,
// so that they still get the event — an execution report among them
// (contract 3) — whatever the host does.
func (d *Dispatcher) offer(f *fan) {
	if f.done {
		return
	}
	defer d.offer(f)
	for f.i < len(f.subs) {
		s := f.subs[f.i]
		f.i++
		var ok bool
		var report news
		if s.in != nil {
			ok = s.deliverInline(&f.cl) // the handler, here and now (inline.go)
		} else {
			ok, report = s.enqueue(&f.cl)
			f.cl.next()
		}
		if !ok && d.closed.Load() {
			f.err = ErrClosed // refused by a draining subscription
		}
		if report != 0 {
			d.report(s, report)
		}
	}
	f.done = true
}

// report tells the host about a subscription's transitions, on the
// publisher's goroutine and outside the subscription's lock. A panic in the
// host's Logger or OnCriticalOverflow is recovered and counted in s's
// Stats.Panics: Publish goes on to the other subscribers and returns the
// event to its pool.
func (d *Dispatcher) report(s *Subscription, r news) {
	if r&newsSlow != 0 {
		d.logAttrs(s, slog.LevelWarn, "dispatch: subscriber too slow, dropping its oldest market data",
			slog.Uint64("subscription_id", s.id), slog.String("subscriber", s.name),
			slog.Int("ordered_bound", s.ordBound))
	}
	if r&newsOverflow != 0 {
		st := s.Stats()
		d.logAttrs(s, slog.LevelWarn, "dispatch: critical lane over its bound, growing (nothing dropped)",
			slog.Uint64("subscription_id", s.id), slog.String("subscriber", s.name),
			slog.Int("critical_bound", s.critBound), slog.Int("critical", st.Critical))
		if d.overflow != nil {
			d.alarm(s, st)
		}
	}
}

// alarm calls the host's OnCriticalOverflow, recovering a panic in it as a
// handler's is (counted in s's Stats.Panics): the host's bug must not cost
// the event the other subscribers are still to get, nor the pooled
// original its way back.
func (d *Dispatcher) alarm(s *Subscription, st Stats) {
	defer func() {
		if r := recover(); r != nil {
			s.countPanic()
			d.logPanic(s.countPanic, r, debug.Stack(), slog.Uint64("subscription_id", s.id), slog.String("subscriber", s.name),
				slog.String("in", "OnCriticalOverflow"))
		}
	}()
	d.overflow(s, st)
}

// logAttrs writes one record about s to the host's Logger (nil: none); a
// panic in the Logger is recovered and counted in s's Stats.Panics.
func (d *Dispatcher) logAttrs(s *Subscription, level slog.Level, msg string, attrs ...slog.Attr) {
	d.logCounted(s.countPanic, level, msg, attrs...)
}

// logCounted writes one record to the host's Logger (nil: none),
// recovering a panic in its handler and calling counted (when not nil).
// The Logger is host code, called on the publisher's goroutine inside
// Publish, where a panic would cost the later subscribers the event and
// the pool its original, and on a subscription's inside the recovery of
// its handler's panic, where it would end the process.
func (d *Dispatcher) logCounted(counted func(), level slog.Level, msg string, attrs ...slog.Attr) {
	if d.log == nil {
		return
	}
	defer func() {
		if recover() != nil && counted != nil {
			counted()
		}
	}()
	d.log.LogAttrs(context.Background(), level, msg, attrs...)
}

// logPanic records a panic recovered from a subscriber's handler, at Error
// level with the value and the handler's stack; a panic of the Logger
// itself is recovered and counted (counted).
func (d *Dispatcher) logPanic(counted func(), v any, stack []byte, who ...slog.Attr) {
	attrs := append(who, slog.Any("panic", v), slog.String("stack", string(stack)))
	d.logCounted(counted, slog.LevelError, "dispatch: subscriber's handler panicked (recovered, delivery goes on)", attrs...)
}

// logCaughtUp records the end of a subscription's slow spell.
func (d *Dispatcher) logCaughtUp(s *Subscription, dropped uint64) {
	d.logAttrs(s, slog.LevelInfo, "dispatch: subscriber caught up",
		slog.Uint64("subscription_id", s.id), slog.String("subscriber", s.name),
		slog.Uint64("dropped", dropped))
}

// Close stops the dispatcher: Publish and Subscribe return ErrClosed from
// now on, and every subscription delivers what it has queued (critical
// first, as always) and ends.
//
// Close waits for handler subscriptions: their handlers get what was
// queued, and Close returns once they have. When ctx ends first (after
// DefaultCloseWait if it has no deadline), what is still queued is
// released and Close returns a [*CloseError]; a goroutine still inside its
// handler exits when the handler returns. Queued events are heap clones, so
// releasing them returns nothing to any pool.
//
// Close does not wait for channel subscriptions (no Handler), canonical or
// merged: a channel is read at the reader's pace, perhaps only after Close
// returns, so Close hands it off. Its goroutine keeps offering what was
// queued on C — and nothing newer — and closes C after the last event, then
// exits. Reading C to the end (range over it) is all a reader has to do;
// one that stops reading early must Unsubscribe (UnsubscribeMerged), which
// releases the rest, or the goroutine waits on the channel. This is the one goroutine that may outlive Close,
// besides a handler still running.
//
// Close stops inline subscriptions ([SubscribeOptions.Inline]) at once,
// nothing to drain, and waits for their calls running until ctx ends (they
// count in CloseError.Running then) — those of an inline subscription
// unsubscribed while a call ran too, as for a queued handler. Called from inside an inline handler
// it returns [ErrCloseInHandler] and closes nothing: it would wait for
// the very call it is made from. It must not be called from a queued
// handler either (it waits out ctx). Calling it again waits again.
// A nil ctx returns [pool.ErrNilContext] and closes nothing.
func (d *Dispatcher) Close(ctx context.Context) error {
	if ctx == nil {
		return pool.ErrNilContext
	}
	if inInlineHandler() {
		return ErrCloseInHandler
	}
	d.mu.Lock()
	d.closed.Store(true)
	d.subs = nil
	d.idx.Store(newIndex(nil))
	lanes := make([]lane, 0, len(d.running)+len(d.mrunning)+len(d.inlines))
	for s := range d.inlines {
		// Nothing queued: stopped at once, Close waits only for the
		// calls running (Done), up to ctx.
		l := inlineLane{s}
		l.drain()
		lanes = append(lanes, l)
	}
	clear(d.inlines)
	for s := range d.running {
		s.drain()
		if s.ch == nil { // handed-off channel subscriptions are not waited for
			lanes = append(lanes, s)
		}
	}
	for s := range d.mrunning {
		s.drain()
		// A merged channel subscription is handed off like a canonical
		// one: its reader may read only after Close returns, and waiting
		// for it would make Close wait out its whole context and then
		// discard what the reader was about to read.
		if s.ch == nil {
			lanes = append(lanes, s)
		}
	}
	d.merged = nil
	d.mu.Unlock()

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCloseWait)
		defer cancel()
	}
	// A sweep of the routes still running sees closed and stops: the
	// routes are dropped with the index.
	<-d.sweeping()
	if waitAll(ctx, lanes) {
		return nil
	}
	ce := &CloseError{Err: ctx.Err()}
	for _, s := range lanes {
		ce.Discarded += s.stop()
	}
	for _, s := range lanes {
		select {
		case <-s.Done():
		default:
			ce.Running++
		}
	}
	d.logCounted(nil, slog.LevelWarn, "dispatch: close gave up draining",
		slog.Uint64("discarded", ce.Discarded), slog.Int("running", ce.Running), slog.Any("error", ce.Err))
	return ce
}

// lane is what Close needs of a subscription, canonical or merged.
type lane interface {
	drain()
	stop() uint64
	Done() <-chan struct{}
}

// waitAll waits for every subscription's goroutine to exit, or for ctx.
func waitAll(ctx context.Context, subs []lane) bool {
	for _, s := range subs {
		select {
		case <-s.Done():
		case <-ctx.Done():
			return false
		}
	}
	return true
}
