package dispatch

import (
	"hash/maphash"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/schema"
)

// Default lane bounds.
const (
	DefaultCriticalBound = 1024
	DefaultOrderedBound  = 1024
)

// SubscribeOptions tune one subscription. A nil *SubscribeOptions gives the
// defaults; Subscribe copies the struct before applying them.
type SubscribeOptions struct {
	// Handler, when set, is called with every event on a goroutine the
	// dispatcher starts for this subscription, one event at a time. The
	// event is a heap clone and the handler's to keep. A slow handler only
	// delays its own subscription. It may call Unsubscribe (also for its own
	// subscription) but not Close. A panic in the handler is recovered:
	// it is counted in [Stats.Panics] and logged (Error, with the panic
	// value and stack), the event counts as delivered, and the subscription
	// goes on with the next event; the publisher and the other subscribers
	// never notice. A host that wants a handler's panic to end the process
	// recovers and re-panics on a goroutine of its own, or watches
	// Stats.Panics. The event the handler panicked on is not delivered
	// again (a handler that panics half-way through a fill may have booked
	// it already, and would book it twice): OnPanic gets it. When nil,
	// events are sent on the channel returned by [Subscription.C].
	// Defaults to nil.
	Handler func(*schema.CanonicalEvent)
	// OnPanic, when set, is called after Handler panicked, on the
	// subscription's goroutine, with the event the handler did not finish
	// (the host's to keep) and the panic value: what a host needs to
	// reconcile it — an execution report names the order to look up — or
	// to stop. A panic in OnPanic is recovered, counted in Stats.Panics and
	// logged too. Defaults to nil: the panic is counted and logged (with
	// the event's type, venue and symbol), nothing else.
	OnPanic func(ev *schema.CanonicalEvent, v any)
	// CriticalBound is how many critical events (execution reports, order
	// acks, control and the gap markers not about one ordered stream) may
	// wait before the lane is over its
	// bound. Critical events are never dropped: beyond the bound the lane
	// grows, each such event is counted in [Stats.Overflowed], and
	// [Options.OnCriticalOverflow] is called once on the way over.
	// Defaults to DefaultCriticalBound.
	CriticalBound int
	// OrderedBound is how many ordered events (trades, book snapshots and
	// diffs, closed klines, liquidations, and the gap markers published
	// about one such stream) may wait. When the lane is full
	// the oldest is dropped and recorded in its stream's gap marker. It is
	// a bound, not a size: the lane's memory grows with what is queued.
	// Defaults to DefaultOrderedBound.
	OrderedBound int
	// Name names the subscription in log records (key "subscriber", next
	// to "subscription_id"). Defaults to "".
	Name string
	// Inline, with a Handler, calls the handler on the publisher's
	// goroutine, inside Publish, instead of queueing for a goroutine of
	// the subscription's: no queue, no goroutine, no wake-up, so nothing
	// is ever coalesced, dropped or announced by a gap marker of the
	// dispatcher's own, and when Publish returns the handler has returned
	// for that event. The event is still the subscriber's own clone, its
	// to keep. The price: the handler's time is the publisher's (the
	// socket reader's), so a slow or blocking inline handler slows the
	// feed and every subscriber after it; use it for handlers that are
	// fast and never block (a strategy's book update, a counter, a
	// hand-off to the host's own ring). When several goroutines publish
	// into one dispatcher (several venues' readers), the handler may be
	// called by them at once: it must be safe for concurrent calls (one
	// stream, published by one goroutine, is called in publish order).
	// It may call Publish, Unsubscribe (its own subscription too) and
	// Stats; Close from it returns [ErrCloseInHandler]. Panics are
	// recovered as for a queued handler, on the publisher's goroutine.
	// CriticalBound and OrderedBound do not apply. See the package doc,
	// "Inline delivery". Subscribe returns an [*OptionsError] when Inline
	// is set without a Handler. Defaults to false.
	Inline bool
}

// Stats is a snapshot of one subscription's counters.
//
// Every event the subscription accepted (published while it was open and
// matching its filter) is, in any one snapshot, in exactly one
// place, and so are the gap markers the dispatcher made for it (Gaps):
//
//	accepted + Gaps = Delivered + Depth + InHand + Dropped + Coalesced + Discarded
//
// Dropped events are announced (a gap marker, itself delivered, queued or
// discarded); Coalesced ones were replaced by a newer event of their
// stream or by a gap marker about it, or, for a published gap marker,
// merged into the marker waiting for its stream (its own, or the one
// about every symbol of its venue and type). A host's own count of what it
// published and what it received checks against it.
type Stats struct {
	Delivered  uint64        // events handed to the handler or received from C
	Coalesced  uint64        // queued coalescable events replaced by a newer one of their stream, or by a gap marker about it; queued book events replaced by a critical gap marker about them (discardOrderedLocked); and published gap markers merged into the marker waiting for their stream (its count adds theirs)
	Dropped    uint64        // ordered events dropped because the lane was full
	Gaps       uint64        // gap markers made for those drops (each covers one or more), and for quotes dropped past the coalescing lane's bound
	Overflowed uint64        // critical events queued beyond CriticalBound (none lost)
	Discarded  uint64        // queued events released at Unsubscribe or at a Close that timed out
	Critical   int           // critical events queued now
	Coalescing int           // coalescable events queued now
	Ordered    int           // ordered events queued now
	Markers    int           // gap markers waiting now
	Depth      int           // all events queued now, markers included
	MaxDepth   int           // most events queued at once so far
	WorstLag   time.Duration // longest delivery time minus IngestTS so far
	Panics     uint64        // host code run for the subscription that panicked, recovered: its Handler (the event counts as delivered), OnPanic, OnCriticalOverflow, and the Logger writing a record about it
	// InHand is 1 while the subscription's goroutine holds an event it
	// has taken off its queues and is handing over — inside the handler,
	// or offered on C and not yet received — and 0 otherwise. That event
	// is in no queue count (Critical, Depth, …) and not yet Delivered: a
	// reader that never reads C holds one for good. InHandType is its
	// type (schema.EventUnknown when InHand is 0): an execution report
	// not yet handled is queued in Critical or in hand with
	// InHandType.Critical().
	InHand     int
	InHandType schema.EventType
}

// Subscription is one subscriber's queues and delivery goroutine. It is
// created by [Dispatcher.Subscribe] and is safe for concurrent use.
type Subscription struct {
	d       *Dispatcher
	id      uint64
	m       matcher
	handler func(*schema.CanonicalEvent)
	onPanic func(*schema.CanonicalEvent, any)
	ch      chan *schema.CanonicalEvent // nil with a handler
	wake    chan struct{}               // capacity 1: the queue is no longer empty, or the state changed
	abort   chan struct{}               // closed to stop at once (ends a send on ch)
	done    chan struct{}               // closed when the goroutine has exited

	name                string
	critBound, ordBound int
	abortOnce           sync.Once

	mu         sync.Mutex
	state      subState
	idle       bool                   // the goroutine found every lane empty and waits for wake
	over       bool                   // the critical lane is over its bound
	slow       bool                   // dropping market data since the lanes were last empty
	lastOrd    bool                   // the last market data delivered came from the ordered lane
	staged     *schema.CanonicalEvent // ordered event whose gap marker is being delivered: it goes next
	stagedAt   uint64                 // marks when staged was taken off the lane: a marker touched since tells of later events
	marks      uint64                 // markers made or merged into so far: marker.at's clock
	inHand     *schema.CanonicalEvent // the event taken off the queues and being handed over (Stats.InHand), or nil
	seq        uint64
	crit       ring[*schema.CanonicalEvent]
	ahead      ring[*marker]        // the markers markersAheadLocked moved onto crit and still there, in crit's order: not held to critBound
	aheadOf    map[routeKey]*marker // the same, by the stream they report on: its later drops merge into it
	ord        ring[ordered]
	coal       ring[queued]                        // slots in line; a slot's gap marker may leave its entry dead (queued.live)
	coalN      int                                 // live entries of coal: the quotes queued
	slots      map[uint64]*slot                    // per coalescable stream by slotHash (same hash: chained), swept of streams gone quiet (sweepSlotsLocked)
	slotList   []*slot                             // the same slots, in the order a sweep visits them
	windows    []string                            // the ticker windows (Ticker.Window) other than "" its slots were made for, each once (see discardStaleLocked)
	hand       int                                 // the sweep's next place in slotList
	born       uint64                              // slots made with minSlots held for streams new to the sweep: its clock
	forgot     *sketch                             // the streams whose slots the sweep forgot; nil until it first does
	forgotPrev *sketch                             // the one forgot replaced when the slots outgrew it; nil if none
	gaps       map[routeKey]*marker                // gap markers waiting, by the stream they report on
	books      map[routeKey]*marker                // those about a symbol's book diffs, any view, by bookKey: chained by marker.book
	stale      map[routeKey]*schema.CanonicalEvent // markers of quotes dropped past quoteBound, queued on the critical lane, by stream or (venue, type)
	quoteBound int                                 // the most quotes queued: maxQuotes (a test's less)
	staleBound int                                 // the most markers of stale streams waiting: maxStaleStreams (a test's less)
	gapBound   int                                 // the most markers of ordered streams waiting: maxGapStreams (a test's less)
	pending    markers                             // the same markers, the first due first
	market     uint64                              // market data events delivered so far
	counters   Stats                               // counters kept under mu, Delivered and WorstLag included
	episode    uint64                              // Dropped when the subscription last became slow
	scanned    uint64                              // waiting markers and queued slots looked at, for tests: the work of a pop or a gap marker

	panics atomic.Uint64
	gone   atomic.Bool // no longer among the dispatcher's subscribers (routes are swept of it)

	in *inline // SubscribeOptions.Inline: the handler runs inside Publish (inline.go); nil for a queued subscription
}

type subState uint8

const (
	stateOpen     subState = iota
	stateDraining          // Close: deliver what is queued, take nothing new
	stateStopped           // Unsubscribe or Close timeout: release what is queued
)

// ordered is an event of the ordered lane and its arrival number.
type ordered struct {
	ev  *schema.CanonicalEvent
	seq uint64
}

// marker is a gap marker waiting for delivery: the dispatcher's report that
// ordered events of one stream were dropped from this subscriber's queue.
// due is the count of market data deliveries after which it goes out even
// if no event of its stream is delivered first.
type marker struct {
	ev         *schema.CanonicalEvent
	key        routeKey
	due        uint64
	prev, next *marker // in Subscription.pending
	book       *marker // the next marker about the diffs of its book's symbol (another view), in Subscription.books
	at         uint64  // Subscription.marks when it was made or last merged into
}

// markers is the list of waiting gap markers in the order they come due.
// A marker's due is always set to the market data delivered so far plus
// OrderedBound, which only grows, so a marker made or updated goes to the
// back and the list stays in order: finding the one due next, and taking
// any one, is O(1) — a slow subscriber of many ordered streams has a
// marker waiting per stream, and a scan of them per delivery, under the
// lock every Publish to it takes, was O(streams).
type markers struct {
	head, tail *marker
	n          int
}

func (l *markers) len() int { return l.n }

// pushBack appends m, which is in no list.
func (l *markers) pushBack(m *marker) {
	m.prev, m.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = m
	} else {
		l.head = m
	}
	l.tail = m
	l.n++
}

// remove takes m, which is in l, out of it.
func (l *markers) remove(m *marker) {
	if m.prev != nil {
		m.prev.next = m.next
	} else {
		l.head = m.next
	}
	if m.next != nil {
		m.next.prev = m.prev
	} else {
		l.tail = m.prev
	}
	m.prev, m.next = nil, nil
	l.n--
}

// moveToBack moves m, which is in l, to its back: its due has just grown.
func (l *markers) moveToBack(m *marker) {
	if l.tail != m {
		l.remove(m)
		l.pushBack(m)
	}
}

func (l *markers) reset() { *l = markers{} }

// slot is the coalescing lane's place for one stream. ev is nil when
// nothing of the stream is queued. seq is the arrival number of the event
// that queued the slot; a replacement keeps it, so the stream keeps its
// place in line.
type slot struct {
	ev   *schema.CanonicalEvent
	seq  uint64
	key  routeKey
	hash uint64   // slotHash(key)
	secs sections // sectionsOf(ev), for copyInto
	next *slot    // the next slot of the same hash
	at   int      // index in Subscription.slotList
	last uint64   // Subscription.born when its stream last quoted (queued or replaced)
}

// queued is a slot's entry in the coalescing lane, made when the slot was
// queued (seq its arrival number). It is dead once the slot's quote has
// gone another way — dropped by a gap marker about its stream, and maybe
// queued again since under a newer number: popLocked passes over it.
type queued struct {
	sl  *slot
	seq uint64
}

func (q queued) live() bool { return q.sl.ev != nil && q.sl.seq == q.seq }

// deadSlack is how many more dead entries than live ones the coalescing
// line may hold before they are taken out of it.
const deadSlack = 64

// minSlots is the fewest coalescable streams' slots a subscription keeps
// before it sweeps those that went quiet.
const minSlots = 4096

// sweepStep is how many slots the sweep visits per new stream once there
// are minSlots (see sweepSlotsLocked).
const sweepStep = 4

// maxQuotes is the most coalescable events one subscription queues (see
// dropOldestQuoteLocked): one per stream is no bound when new streams
// keep coming to a subscriber held still. 376 bytes each (plus their out-of-line sections), about 12 MiB.
const maxQuotes = 1 << 15

func newSubscription(d *Dispatcher, id uint64, f Filter, o SubscribeOptions) *Subscription {
	if o.CriticalBound <= 0 {
		o.CriticalBound = DefaultCriticalBound
	}
	if o.OrderedBound <= 0 {
		o.OrderedBound = DefaultOrderedBound
	}
	s := &Subscription{
		d:       d,
		id:      id,
		name:    o.Name,
		m:       compile(f),
		handler: o.Handler,
		onPanic: o.OnPanic,
		done:    make(chan struct{}),
	}
	if o.Inline { // no lanes, no goroutine (inline.go); Subscribe checked the Handler
		s.in = new(inline)
		return s
	}
	s.wake, s.abort = make(chan struct{}, 1), make(chan struct{})
	s.critBound, s.ordBound = o.CriticalBound, o.OrderedBound
	s.crit = newRing[*schema.CanonicalEvent](min(o.CriticalBound, 64))
	s.ord = newRing[ordered](min(o.OrderedBound, DefaultOrderedBound)) // grows to the bound as needed
	s.coal = newRing[queued](16)
	s.slots = make(map[uint64]*slot)
	s.quoteBound, s.staleBound, s.gapBound = maxQuotes, maxStaleStreams, maxGapStreams
	if s.handler == nil {
		s.ch = make(chan *schema.CanonicalEvent)
	}
	return s
}

// ID returns the subscription's number, unique within its dispatcher.
func (s *Subscription) ID() uint64 { return s.id }

// C returns the channel events are delivered on when the subscription has
// no Handler (nil otherwise). It is closed when the subscription ends: after
// Unsubscribe, or once Close has delivered what was queued. Range over it.
func (s *Subscription) C() <-chan *schema.CanonicalEvent { return s.ch }

// Done returns a channel closed when the subscription's goroutine has
// exited.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Idle reports whether the subscription has nothing queued and its
// goroutine waits for more: every event published to it before the call
// has been handed over (with a Handler, the handler has returned). A
// bridge's Flush uses it as a barrier.
func (s *Subscription) Idle() bool {
	if s.in != nil {
		return s.in.idle()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idle && s.depthLocked() == 0
}

// Stats returns the subscription's counters and queue depths.
func (s *Subscription) Stats() Stats {
	if s.in != nil {
		return s.inlineStats()
	}
	s.mu.Lock()
	st := s.counters
	st.Critical, st.Coalescing, st.Markers = s.crit.len(), s.coalN, s.pending.len()
	st.Ordered = s.ord.len() + s.stagedLocked()
	st.Depth = s.depthLocked()
	if s.inHand != nil {
		st.InHand, st.InHandType = 1, s.inHand.Type
	}
	s.mu.Unlock()
	st.Panics = s.panics.Load()
	return st
}

func (s *Subscription) depthLocked() int {
	return s.crit.len() + s.coalN + s.ord.len() + s.pending.len() + s.stagedLocked()
}

func (s *Subscription) stagedLocked() int {
	if s.staged != nil {
		return 1
	}
	return 0
}

// news is what enqueue tells its caller to report, outside the lock.
type news uint8

const (
	newsOverflow news = 1 << iota // the critical lane has just gone over its bound
	newsSlow                      // the subscription has just started dropping
)

// enqueue queues a clone of the published event (cl.src) in the lane of
// its class, taken from the publish's slab. It reports false when the
// subscription takes no more events, and the transitions to report.
func (s *Subscription) enqueue(cl *clones) (ok bool, report news) {
	ev := cl.src
	t := ev.Type
	var c *schema.CanonicalEvent
	if !t.Coalescable() { // clone outside the lock; coalescing may not need one
		c = cl.take()
	}
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return false, 0
	}
	switch {
	case t.Critical() && !inLine(ev):
		if t == schema.EventGap && s.pending.len() > 0 {
			s.markersAheadLocked(ev)
		}
		if s.pushCriticalLocked(c) {
			report |= newsOverflow
		}
		if t == schema.EventGap {
			s.discardStaleLocked(ev)
			if s.ord.len() > 0 || s.staged != nil {
				s.discardOrderedLocked(ev)
			}
		}
	case c == nil:
		fresh, r := s.coalesceLocked(cl)
		if !fresh {
			s.mu.Unlock()
			return true, 0 // replaced in place: already queued, the goroutine is not idle
		}
		report |= r
	default:
		if s.ord.len() >= s.ordBound {
			report |= s.dropOldestLocked()
		}
		s.seq++
		s.ord.push(ordered{ev: c, seq: s.seq})
	}
	if d := s.depthLocked(); d > s.counters.MaxDepth {
		s.counters.MaxDepth = d
	}
	wake := s.idle
	s.idle = false
	s.mu.Unlock()
	if wake {
		signal(s.wake)
	}
	return true, report
}

// coalesceLocked puts ev in its stream's slot. It reports whether the slot
// was newly queued (false: a queued event was replaced), and newsOverflow
// when the gap marker of a quote dropped past quoteBound took the critical
// lane over its bound.
func (s *Subscription) coalesceLocked(cl *clones) (fresh bool, report news) {
	ev := cl.src
	k, h := cl.stream()
	sl := s.findSlotLocked(k, h)
	if sl == nil {
		s.sweepSlotsLocked(!s.forgottenLocked(k))
		sl = &slot{key: k, hash: h, at: len(s.slotList), next: s.slots[h]}
		s.slots[h] = sl
		s.slotList = append(s.slotList, sl)
		if k.typ == schema.EventTicker && k.interval != "" && !slices.Contains(s.windows, k.interval) {
			s.windows = append(s.windows, k.interval) // a venue's few windows: Binance 1h, 4h, 1d
		}
	}
	if sl.ev != nil {
		if !copyInto(sl.ev, ev, sl.secs, cl.sections) {
			sl.ev = cl.take()
		}
		sl.secs = cl.sections
		sl.last = s.born // it quoted: its age counts from now, as a queued quote's
		s.counters.Coalesced++
		return false, 0
	}
	s.seq++
	sl.ev, sl.seq, sl.last, sl.secs = cl.take(), s.seq, s.born, cl.sections
	s.coal.push(queued{sl: sl, seq: s.seq})
	s.coalN++
	if s.coalN > s.quoteBound && s.dropOldestQuoteLocked() {
		report = newsOverflow
	}
	return true, report
}

// dropOldestQuoteLocked drops the quote queued first, when more than
// quoteBound are: a subscriber held still (its handler stuck) while new
// streams keep coming (options listed by the thousand) would otherwise
// queue one per stream without end. The subscriber is told: a gap marker
// about the quote's stream (its Symbol and view, GapType its type,
// GapSource schema.GapSubscriberQueue, GapCount the quotes dropped) on the
// critical lane, so ahead of any later quote of the stream; one per stream
// waits there, and later drops of the stream merge into it until it is
// delivered. Past maxStaleStreams such markers waiting, a stream without
// one gets a marker about every symbol of its venue and type (Symbol ""),
// one per (venue, type), likewise merged: the markers waiting stay
// bounded, and a dispatcher they are relayed to (natsbridge) drops the
// queued quotes of the streams they name only, not of every symbol of the
// venue (as one marker per (venue, type) made it do). A quote it never
// gets is announced, never silently stale; what it gets is still each
// stream's latest. The marker counts against CriticalBound as any critical
// event queued (it reports whether it took the lane over, as
// pushCriticalLocked).
func (s *Subscription) dropOldestQuoteLocked() (alarm bool) {
	for !s.coal.peek().live() {
		s.coal.pop() // its stream's quote went with a gap marker
	}
	sl := s.coal.pop().sl
	old := sl.ev
	sl.ev = nil
	s.coalN--
	s.counters.Coalesced++
	k := sl.key
	g := s.stale[k]
	if g == nil && len(s.stale) >= s.staleBound {
		k = routeKey{venue: old.Venue, typ: old.Type} // every symbol of the venue
		g = s.stale[k]
	}
	if g != nil {
		g.Control.GapCount++
		return false
	}
	g = queueGap(old, k == sl.key) // naming the ticker's kind and window too, so that staleKey finds it (see windowed)
	g.Control.Reason = "dispatch: subscriber's queue held more quotes than its bound: the oldest dropped, stale until its stream's next"
	if s.stale == nil {
		s.stale = make(map[routeKey]*schema.CanonicalEvent)
	}
	s.stale[k] = g
	s.counters.Gaps++
	return s.pushCriticalLocked(g)
}

// maxGapStreams is the most gap markers about one ordered stream's
// drops that wait at once (see dropOldestLocked).
const maxGapStreams = 4096

// maxStaleStreams is the most gap markers about one stream's quotes
// dropped past quoteBound that wait at once (see dropOldestQuoteLocked).
const maxStaleStreams = 256

// staleKey is the key in Subscription.stale of g, a marker of quotes
// dropped past quoteBound: the stream it names, which for one about every
// symbol of its venue and type (no symbol, no view) is that venue and
// type. A stream without a symbol but with a view (a depth, an interval)
// is keyed by its view too, as dropOldestQuoteLocked keys it: read as
// the (venue, type) marker, its entry outlived its delivery.
func staleKey(g *schema.CanonicalEvent) routeKey {
	return streamKey(g, g.GapType())
}

// sweepSlotsLocked forgets the slots of streams gone quiet: a venue's
// symbols come and go (options and dated futures expire by the thousand),
// and a slot kept for every stream ever seen would grow without end. It is
// called for every new stream's slot and, once there are minSlots, visits
// the next sweepStep slots, going round slotList: a slot with nothing
// queued whose stream quoted nothing (queued or replaced) during the last
// W new streams, W the greater of minSlots and half the slots held, is
// forgotten. (New streams
// are counted only once minSlots are held: a host subscribing to its
// streams one by one does not age the first ones before they could quote
// twice.) A slot holds nothing else worth keeping when empty: its place in
// line is taken anew when its stream queues again.
//
// So no Publish does more than sweepStep visits under the lock, whatever
// the streams followed (a sweep of every slot at once held it ~30 ms at
// 100k slots), and the sweep costs O(1) per new stream. With L streams
// that keep quoting, the slots of quiet ones are those of the last W new
// streams plus those the sweep has not reached yet (at most a turn, about
// n/sweepStep new streams): n ≤ L + n/2 + n/4, so n stays within 4L (or
// about 2 × minSlots). A stream that quotes again before W new streams
// have come keeps its slot (no allocation for it); one that quotes less
// often costs a small allocation when it does, nothing else. The sweep
// done all at once when the slots had doubled kept every slot queued since
// the sweep before, which let the table grow by L at every sweep, without
// end, and made a subscriber to more than 8,192 streams quoting in turn
// forget and make again a slot for every quote, sweeping every 4,096.
//
// A stream whose slot was forgotten and that quotes again is not a new
// stream to the sweep: it does not age the others. L streams that first
// quote all at once, many more than minSlots (a subscriber to 100k
// options), age one another before they can quote twice; counted as new
// when they came back, they aged the rest in turn, and each quote found
// its slot forgotten and made it again, for good (an allocation and a map
// insertion per quote). The forgotten streams are remembered in a sketch
// sized to the slots held (1.5 × forgotSlots 16-bit fingerprints per slot
// held when the sweep first forgets one, made 512 bytes a page as
// written; a new one sized likewise replaces it when the slots held
// outgrow forgotSlots per slot, the one replaced still read until the
// next: at most 20 bytes per slot held at its most, as a sketch never
// shrinks, of the ~300 a slot costs): a
// stream forgotten is found on its return with a chance of at least
// exp(-N / (forgotSlots × slots held)) after N others were forgotten. One found does not tick the clock; one it lost (another
// stream's fingerprint written over its own) is new again, and a new
// stream taken for a forgotten one (about 1 in 16,384: 15-bit
// fingerprints, two sketches read) ticks nothing.
// (A sketch of 2^18 for every subscription cost 512 KiB each once its
// sweep had forgotten a few thousand slots.) So
// the slots held are at most the bound above plus the forgotten streams
// that quote again — streams that keep quoting, however rarely.
func (s *Subscription) sweepSlotsLocked(tick bool) {
	if len(s.slotList) < minSlots {
		return
	}
	if tick {
		s.born++
	}
	w := uint64(max(minSlots, len(s.slotList)/2))
	for range sweepStep {
		if s.hand >= len(s.slotList) {
			s.hand = 0
		}
		sl := s.slotList[s.hand]
		if sl.ev != nil || s.born-sl.last <= w {
			s.hand++
			continue
		}
		// Forget it: the last slot takes its place, to be visited next.
		if s.forgot == nil || s.forgot.size() < forgotSlots*len(s.slotList) {
			// Sized to the slots held: a sketch of 2^18 for every
			// subscription was 512 KiB each, 512 MB for 1,000.
			s.forgot, s.forgotPrev = newSketch(forgotSlots*len(s.slotList)*3/2), s.forgot
		}
		s.forgot.saw(sl.key)
		s.unlinkSlotLocked(sl)
		last := len(s.slotList) - 1
		moved := s.slotList[last]
		s.slotList[sl.at], moved.at = moved, sl.at
		s.slotList[last] = nil
		s.slotList = s.slotList[:last]
	}
}

// slotSeed seeds slotHash.
var slotSeed = maphash.MakeSeed()

// slotHash is stream k's key in Subscription.slots.
func slotHash(k routeKey) uint64 { return maphash.Comparable(slotSeed, k) & slotHashMask }

// slotHashMask keeps every bit of slotHash. A test keeps fewer, so that
// streams collide: two streams of one 64-bit hash are too rare to find,
// and the chain that keeps them apart (findSlotLocked) must be tested.
var slotHashMask = ^uint64(0)

// findSlotLocked returns the slot of stream k, whose slotHash is h, or nil.
func (s *Subscription) findSlotLocked(k routeKey, h uint64) *slot {
	sl := s.slots[h]
	for sl != nil && sl.key != k {
		sl = sl.next
	}
	return sl
}

// unlinkSlotLocked takes sl out of the slots table.
func (s *Subscription) unlinkSlotLocked(sl *slot) {
	p := s.slots[sl.hash]
	switch {
	case p == sl && sl.next == nil:
		delete(s.slots, sl.hash)
	case p == sl:
		s.slots[sl.hash] = sl.next
	default:
		for p.next != sl {
			p = p.next
		}
		p.next = sl.next
	}
	sl.next = nil
}

// forgotSlots is the sketch slots per slot held that remember the streams
// the sweep forgot: 2 bytes each, against the ~300 a slot costs.
const forgotSlots = 4

// forgottenLocked tells whether the sweep forgot the slot of stream k
// lately (see sweepSlotsLocked).
func (s *Subscription) forgottenLocked(k routeKey) bool {
	return (s.forgot != nil && s.forgot.has(k)) || (s.forgotPrev != nil && s.forgotPrev.has(k))
}

// discardStaleLocked drops the coalescable events queued before gap
// marker g that it reports on (counted as coalesced): the marker overtakes
// them on the critical lane, and a quote from before the loss delivered
// after it would pass for the stream's state after the loss. What g
// covers: its stream when it names a coalescable type (of every symbol of
// the venue when it names none), every stream of its venue (and symbol)
// when it names no type.
//
// A marker about one stream (a symbol and a coalescable type: normalize's
// stale marker when its pool ran dry, a relay's after its link came back,
// both one per stream and in bursts) finds the stream's slot and empties
// it, leaving its entry in line dead, for popLocked to pass over: looking
// at every queued quote for each of S such markers cost S² under the lock.
// A marker about more than one stream looks at the queued slots only, not
// every slot.
func (s *Subscription) discardStaleLocked(g *schema.CanonicalEvent) {
	t := g.GapType()
	if s.coalN == 0 || (t != schema.EventUnknown && !t.Coalescable()) {
		return
	}
	if g.Symbol != "" && t != schema.EventUnknown {
		k := streamKey(g, t)
		s.emptySlotLocked(k)
		if t == schema.EventTicker && k.depth != windowed {
			// A marker that does not state its window (WindowClose 0:
			// normalize's, a relay's) is about the symbol's tickers of
			// its window (Ticker.Window, in k), both kinds (see
			// windowed); one that states it (a subscriber queue's about
			// a full ticker, relayed) about the full ticker only.
			k.depth = windowed
			s.emptySlotLocked(k)
			if k.interval == "" {
				// Nor does it name a window (a relay's that keys no
				// window, a host's): it is about every window's tickers
				// of the symbol, 1 h and 1 d as well as the standard
				// ones — a stale 1 h ticker delivered after it would
				// pass for the state after the loss.
				for _, w := range s.windows {
					k.interval = w
					s.emptySlotLocked(k)
					k.depth = 0
					s.emptySlotLocked(k)
					k.depth = windowed
				}
			}
		}
		return
	}
	n := 0
	s.coal.filter(func(q queued) bool {
		s.scanned++
		if !q.live() {
			return false
		}
		k := q.sl.key
		if k.venue != g.Venue || (g.Symbol != "" && k.symbol != g.Symbol) || (t != schema.EventUnknown && k.typ != t) {
			return true
		}
		q.sl.ev = nil
		n++
		return false
	})
	s.coalN -= n
	s.counters.Coalesced += uint64(n)
}

// discardOrderedLocked drops the book events (snapshots and diffs, and
// published markers about them) queued before gap marker g, a critical
// one, that it reports on (counted as coalesced). g names more than one
// ordered stream — every symbol of its venue (Symbol "": a connection
// lost, or a relayed marker about every symbol of a venue and type), or
// every stream of its symbol (GapType schema.EventUnknown) — so it is not
// in line (inLine) and overtakes them: a snapshot or diff from before the
// loss delivered after the marker would pass for the book after it, a
// stale book served as good (the Ordered lane's promise: a marker comes
// after the events published before it, before those after). What g
// covers: the book events of its venue (and symbol, when it names one);
// of its GapType's stream when it names one, a marker about diffs
// covering the book's snapshots too, as it reaches their subscribers
// (fanOut). Trades, closed klines and liquidations stay, in order: each
// is a fact of its own time, not a state a later one stands for, and
// dropping them would lose what no loss took. The event staged behind
// its stream's marker is queued still: it goes too. Markers stay, a
// published in-line one about the book: it serves no state, it tells of
// the book's own break (a session publishes it beside its connection's
// marker, and a subscriber of the book is promised it) — more lost than
// was, never less. Those the dispatcher made for the subscriber's drops
// (pending) went out ahead of g already (markersAheadLocked).
// Called only for critical gap markers with ordered events queued:
// nothing is added per event otherwise.
func (s *Subscription) discardOrderedLocked(g *schema.CanonicalEvent) {
	if !aboutBooks(g) {
		return
	}
	covers := func(ev *schema.CanonicalEvent) bool {
		if ev.Type == schema.EventGap {
			return false // a marker tells, it serves no state: delivered after g, one resync more at worst
		}
		return bookCovered(g, streamOf(ev), false)
	}
	n := 0
	if s.staged != nil && covers(s.staged) {
		s.staged = nil
		n++
	}
	n += s.ord.filter(func(o ordered) bool {
		s.scanned++
		return !covers(o.ev)
	})
	s.counters.Coalesced += uint64(n)
}

// markersAheadLocked queues ahead of gap marker g, a critical one, the
// markers the dispatcher made for this subscriber's drops of the book
// streams g covers (as discardOrderedLocked: of g's venue, and symbol when
// it names one; snapshots, and diffs unless g is about snapshots only).
// Each tells of a loss before g, and waiting for its stream's next event
// it went out after g, just before the first snapshot published after the
// loss — the one the host's resync after g waits for —, telling it that
// book was broken too: a second resync for nothing. Ahead of g, in the
// order they wait, each still tells of its loss, once. A marker the
// critical lane holds is not counted against its bound (s.ahead): it was
// queued already, waiting, a marker of an ordered stream — held to it,
// the wide marker and every critical event after it were counted in
// Stats.Overflowed, and OnCriticalOverflow called, for a subscriber
// behind in market data only. Called only for critical gap markers while markers
// wait.
func (s *Subscription) markersAheadLocked(g *schema.CanonicalEvent) {
	if !aboutBooks(g) {
		return
	}
	for m := s.pending.head; m != nil; {
		next := m.next
		if bookCovered(g, m.key, true) {
			s.moveAheadLocked(m)
		}
		m = next
	}
}

// moveAheadLocked takes waiting marker m onto the critical lane
// (markersAheadLocked), or, when the marker of its stream moved there by
// an earlier wide marker is still there, merges it into that one: nothing
// of the stream was delivered since (the lane goes first), and its book
// events published between the two wide markers were dropped by the later
// one, so the host, resyncing after it, is told the same — and the lane
// holds one such marker per stream, as pending did, not one per stream per
// wide marker (a connection that flaps while its subscriber is held still).
func (s *Subscription) moveAheadLocked(m *marker) {
	ev := s.takeMarkerLocked(m)
	if a := s.aheadOf[m.key]; a != nil {
		g, o := a.ev.UseControl(), ev.UseControl()
		mergeGap(g, o, true)
		if o.GapSource != schema.GapSubscriberQueue {
			g.GapSource = o.GapSource // a loss at the venue: no other subscriber was spared it
		}
		s.counters.Coalesced++ // folded into a: one event fewer to deliver
		return
	}
	s.crit.push(ev)
	s.ahead.push(m)
	if s.aheadOf == nil {
		s.aheadOf = make(map[routeKey]*marker)
	}
	s.aheadOf[m.key] = m
}

// mergeGap folds gap marker o's loss into g's, the later into the
// earlier: the counts add (unknown, 0, with any is unknown), and the
// sequence range runs on when o's starts where g's ends on one stream
// (sameStream), else is no longer known.
func mergeGap(g, o *schema.Control, sameStream bool) {
	if g.GapCount == 0 || o.GapCount == 0 {
		g.GapCount = 0 // unknown plus some is unknown
	} else {
		g.GapCount += o.GapCount
	}
	if sameStream && g.GapLastSeq != 0 && o.GapFirstSeq == g.GapLastSeq+1 && o.GapLastSeq != 0 {
		g.GapLastSeq = o.GapLastSeq
	} else {
		g.GapFirstSeq, g.GapLastSeq = 0, 0 // range no longer known
	}
}

// aboutBooks reports whether gap marker g may cover book streams: its
// GapType is the book's diffs, its snapshots, or no type.
func aboutBooks(g *schema.CanonicalEvent) bool {
	t := g.GapType()
	return t == schema.EventUnknown || t == schema.EventBookUpdate || t == schema.EventBookSnapshot
}

// bookCovered reports whether gap marker g (aboutBooks) covers stream k:
// a book stream of g's venue, and symbol when g names one; snapshots, and
// diffs unless g is about snapshots only. everySymbol covers a k that
// names no symbol as well (a waiting marker about every symbol of its
// venue and type: dropOldestLocked's past gapBound).
func bookCovered(g *schema.CanonicalEvent, k routeKey, everySymbol bool) bool {
	return k.venue == g.Venue && (g.Symbol == "" || k.symbol == g.Symbol || (everySymbol && k.symbol == "")) &&
		(k.typ == schema.EventBookSnapshot || (k.typ == schema.EventBookUpdate && g.GapType() != schema.EventBookSnapshot))
}

// emptySlotLocked drops the quote queued in stream k's slot, if any
// (counted as coalesced), leaving its entry in line dead.
func (s *Subscription) emptySlotLocked(k routeKey) {
	s.scanned++
	sl := s.findSlotLocked(k, slotHash(k))
	if sl == nil || sl.ev == nil {
		return
	}
	sl.ev = nil
	s.coalN--
	s.counters.Coalesced++
	if s.coal.len() > 2*s.coalN+deadSlack {
		// Mostly dead entries: a subscriber held still while a stream
		// alternates quotes and markers would otherwise grow the line by
		// one per marker. At least coalN+deadSlack markers made them since
		// the line was last this short, so the pass is O(1) per marker.
		s.coal.filter(func(q queued) bool {
			s.scanned++
			return q.live()
		})
	}
}

func (s *Subscription) pushCriticalLocked(c *schema.CanonicalEvent) (alarm bool) {
	s.crit.push(c)
	if s.crit.len()-s.ahead.len() <= s.critBound {
		return false
	}
	s.counters.Overflowed++
	if s.over {
		return false
	}
	s.over = true
	return true
}

// dropOldestLocked drops the oldest ordered event and records the loss in
// the gap marker of its stream, a new one or the one still waiting. A
// marker is not queued in line: it goes out just before the next event of
// its stream is delivered, so that every later drop of the stream merges
// into it meanwhile, and a slow subscriber's deliveries stay mostly data.
// It goes out on its own once the subscriber has delivered OrderedBound
// more market data events (or has nothing else queued), so that a stream
// that went quiet is reported too. Past gapBound streams' markers, a
// stream without one merges into the marker about every symbol of its
// venue and type: a subscriber held still while new streams keep losing
// events would otherwise keep a marker per stream without end.
func (s *Subscription) dropOldestLocked() news {
	old := s.ord.pop().ev
	if inLine(old) {
		s.displaceMarkerLocked(old)
		return 0
	}
	s.counters.Dropped++
	var report news
	if !s.slow {
		s.slow, s.episode = true, s.counters.Dropped-1
		report = newsSlow
	}
	first, last := seqRange(old)
	own := keyOf(old)
	k := own
	if s.gaps[k] == nil {
		k = s.markerKeyLocked(k)
	}
	if m := s.gaps[k]; m != nil {
		g := m.ev.UseControl()
		if g.GapCount != 0 { // 0: a venue's count unknown, which stays unknown
			g.GapCount++
		}
		if g.GapLastSeq != 0 && last != 0 && k == own {
			g.GapLastSeq = last
		} else {
			// Range no longer known; or, for the marker about every
			// symbol, never one: one stream's sequence numbers mean
			// nothing in another's.
			g.GapFirstSeq, g.GapLastSeq = 0, 0
		}
		s.touchLocked(m)
		return report
	}
	g := queueGap(old, k == own) // naming the view that lost events, as a venue's marker names it
	g.Control.GapFirstSeq, g.Control.GapLastSeq = first, last
	if k != own {
		g.Control.Reason = wideGapReason
		first = 0 // no range: see above
	}
	if first == 0 || last == 0 {
		g.Control.GapFirstSeq, g.Control.GapLastSeq = 0, 0
	}
	s.addMarkerLocked(g, k)
	s.counters.Gaps++
	return report
}

// queueGap returns a gap marker of the subscriber's queue about the
// stream of old, an event it dropped: its venue, type and times, a count
// of one; with view, its symbol and view too (Book.Depth, Kline.Interval,
// Ticker.Window and WindowClose, in a Kline or Ticker section carried
// only when old names a view there). The marker and its sections are one
// allocation (gapBox).
func queueGap(old *schema.CanonicalEvent, view bool) *schema.CanonicalEvent {
	var g *schema.CanonicalEvent
	switch iv, win, wc := old.KlineInterval(), old.TickerWindow(), old.TickerWindowClose(); {
	case view && iv != "":
		b := new(gapBox[schema.Kline])
		g, b.ev.Control, b.ev.Kline = &b.ev, &b.ctl, &b.view
		b.view.Interval = iv
	case view && (win != "" || wc != 0):
		b := new(gapBox[schema.Ticker])
		g, b.ev.Control, b.ev.Ticker = &b.ev, &b.ctl, &b.view
		b.view.Window, b.view.WindowClose = win, wc
	default:
		b := new(gapBox[struct{}])
		g, b.ev.Control = &b.ev, &b.ctl
	}
	g.Venue, g.Type, g.ExchangeTS, g.IngestTS = old.Venue, schema.EventGap, old.ExchangeTS, old.IngestTS
	*g.Control = schema.Control{
		Kind:      schema.ControlGap,
		GapType:   old.Type,
		GapCount:  1,
		GapSource: schema.GapSubscriberQueue,
	}
	if view {
		g.Symbol, g.Book.Depth = old.Symbol, old.Book.Depth
	}
	return g
}

// gapBox is a gap marker made by the dispatcher: the event, its Control
// and the section naming its view, if any (V), in one allocation.
type gapBox[V any] struct {
	ev   schema.CanonicalEvent
	ctl  schema.Control
	view V
}

// inLine reports whether ev is a gap marker published about one ordered
// stream (by a venue parser, a relay): it travels in line with the
// stream's events in the ordered lane, so that it comes after the events
// published before it and before those published after it. Markers about a
// venue, a coalescable or a critical stream are critical events.
func inLine(ev *schema.CanonicalEvent) bool {
	t := ev.GapType()
	return ev.Type == schema.EventGap && ev.Symbol != "" && t != schema.EventUnknown && !t.Critical() && !t.Coalescable()
}

// streamOf is the stream an ordered lane event belongs to: its own, or for
// an in-line gap marker the stream it reports on.
func streamOf(ev *schema.CanonicalEvent) routeKey {
	if inLine(ev) {
		return streamKey(ev, ev.GapType())
	}
	return keyOf(ev)
}

// displaceMarkerLocked deals with an in-line gap marker at the front of a
// full ordered lane. A marker is never dropped: it becomes its stream's
// waiting marker, which goes out before the stream's next event — the
// place it had in line, as everything of its stream still queued came
// after it. A waiting marker of the stream (drops older than it) absorbs
// its count, and takes its source: a loss at the venue is not one another
// subscriber could have been spared.
//
// Past gapBound streams' markers, or while the marker about every symbol
// of its venue and type waits, a stream without a marker of its own is
// told by that one, as for its drops (dropOldestLocked): the displaced
// marker merges into it, or becomes it.
func (s *Subscription) displaceMarkerLocked(old *schema.CanonicalEvent) {
	own := streamOf(old)
	k := own
	if s.gaps[k] == nil {
		k = s.markerKeyLocked(k)
		if k != own && s.gaps[k] == nil {
			// It becomes the marker about every symbol of its venue
			// and type: old is this subscriber's clone.
			old.Symbol, old.Book.Depth = "", 0
			if old.Kline != nil {
				old.Kline.Interval = ""
			}
			old.Control.GapFirstSeq, old.Control.GapLastSeq = 0, 0
			old.Control.Reason = wideGapReason
		}
	}
	if m := s.gaps[k]; m != nil {
		g, o := m.ev.UseControl(), old.UseControl()
		mergeGap(g, o, k == own)
		g.GapSource = o.GapSource
		s.counters.Coalesced++ // old is folded into m: one event fewer to deliver
		s.touchLocked(m)
		return
	}
	s.addMarkerLocked(old, k)
}

// addMarkerLocked makes g the waiting marker of key k (none waits), due
// once OrderedBound more market data events are delivered. One about a
// symbol's book diffs is also chained in books, so that a snapshot of the
// book, whatever its view, finds it (diffMarkerOfLocked).
func (s *Subscription) addMarkerLocked(g *schema.CanonicalEvent, k routeKey) {
	if s.gaps == nil {
		s.gaps = make(map[routeKey]*marker)
	}
	m := &marker{ev: g, key: k}
	s.gaps[k] = m
	s.pending.pushBack(m)
	s.touchLocked(m)
	if k.typ == schema.EventBookUpdate && k.symbol != "" {
		if s.books == nil {
			s.books = make(map[routeKey]*marker)
		}
		b := bookKey(k)
		m.book = s.books[b]
		s.books[b] = m
	}
}

// touchLocked notes that m, in pending, was made or has just taken a
// loss: it is due once OrderedBound more market data events are
// delivered, and goes to the back of pending.
func (s *Subscription) touchLocked(m *marker) {
	m.due = s.market + uint64(s.ordBound)
	s.pending.moveToBack(m)
	s.marks++
	m.at = s.marks
}

// bookKey is the key in Subscription.books of the markers about the diffs
// of k's book, whatever their view: its venue and symbol.
func bookKey(k routeKey) routeKey {
	return routeKey{venue: k.venue, symbol: k.symbol, typ: schema.EventBookUpdate}
}

// seqRange returns the venue sequence numbers an event covers: a book diff
// its first and last update ids, anything else its SeqProvider. Zero means
// unknown.
func seqRange(ev *schema.CanonicalEvent) (first, last uint64) {
	if ev.Book.LastSeq != 0 {
		first = ev.Book.FirstSeq
		if first == 0 {
			first = ev.Book.LastSeq
		}
		return first, ev.Book.LastSeq
	}
	return ev.SeqProvider, ev.SeqProvider
}

// popLocked takes the next event to deliver: critical events first, in
// arrival order; then market data in arrival order across the ordered and
// coalescing lanes, each ordered event preceded by its stream's gap marker
// if one waits; a marker that has come due goes out before market data. It
// returns nil when nothing is queued.
func (s *Subscription) popLocked() *schema.CanonicalEvent {
	if s.crit.len() > 0 {
		ev := s.crit.pop()
		if s.ahead.len() > 0 && s.ahead.peek().ev == ev {
			delete(s.aheadOf, s.ahead.pop().key) // later drops need a new marker
		}
		if s.over && s.crit.len()-s.ahead.len() <= s.critBound {
			s.over = false
		}
		if len(s.stale) > 0 && ev.Type == schema.EventGap {
			if k := staleKey(ev); s.stale[k] == ev {
				delete(s.stale, k) // later drops need a new marker
			}
		}
		return ev
	}
	if ev := s.staged; ev != nil {
		// Its own stream's marker went first; those about its book's
		// diffs that waited when it was taken off the lane go next (not
		// those made or merged into since: they tell of later events).
		if m := s.diffMarkerOfLocked(ev, s.stagedAt); m != nil {
			return s.takeMarkerLocked(m)
		}
		s.staged = nil
		s.market++
		return ev
	}
	for s.coal.len() > 0 && !s.coal.peek().live() {
		s.coal.pop() // its stream's quote went with a gap marker
	}
	o, c := s.ord.len() > 0, s.coalN > 0
	if !o && !c {
		if m := s.pending.head; m != nil { // caught up: what waits goes now
			return s.takeMarkerLocked(m)
		}
		return nil
	}
	if m := s.pending.head; m != nil {
		s.scanned++
		if m.due <= s.market {
			return s.takeMarkerLocked(m)
		}
	}
	useOrd := o && (!c || s.ord.peek().seq < s.coal.peek().seq)
	if o && c && s.slow {
		// Falling behind, arrival order starves one lane: the ordered
		// lane's head is never older than OrderedBound events while a
		// coalescing slot ages without limit. Take turns instead.
		useOrd = !s.lastOrd
	}
	if useOrd {
		s.lastOrd = true
		ev := s.ord.pop().ev
		if s.pending.len() > 0 {
			m := s.gapOfLocked(streamOf(ev))
			if m == nil {
				m = s.diffMarkerOfLocked(ev, s.marks)
			}
			if m != nil {
				// The event goes right after its marker, out of reach of
				// the drops the marker's delivery may see: otherwise each
				// marker would make the next.
				s.staged, s.stagedAt = ev, s.marks
				return s.takeMarkerLocked(m)
			}
		}
		s.market++
		return ev
	}
	sl := s.coal.pop().sl
	ev := sl.ev
	sl.ev = nil
	s.coalN--
	s.market++
	s.lastOrd = false
	return ev
}

// markerKeyLocked returns the key of the marker that tells of a loss of
// ordered stream k, which has no marker of its own waiting: k, or the
// (venue, type) of the marker about every symbol of its venue and type
// when gapBound markers wait or that one waits. While it waits it takes
// every such loss: it may hold an earlier loss of k, and a marker of k's
// own, delivered before k's next event and ahead of it, would tell the
// subscriber part of k's loss before k goes on, the rest after.
func (s *Subscription) markerKeyLocked(k routeKey) routeKey {
	wide := routeKey{venue: k.venue, typ: k.typ}
	if len(s.gaps) >= s.gapBound || s.gaps[wide] != nil {
		return wide
	}
	return k
}

// wideGapReason is the Reason of the marker about every symbol of a venue
// and type (markerKeyLocked).
const wideGapReason = "dispatch: subscriber's queue held more streams' gap markers than its bound: ordered events of this venue and type dropped"

// gapOfLocked returns the marker waiting for stream k: its own, or the
// one about every symbol of its venue and type that the streams past
// gapBound share (dropOldestLocked), which a subscriber must hear before
// it sees any of them go on. Nil when none waits.
func (s *Subscription) gapOfLocked(k routeKey) *marker {
	if m := s.gaps[k]; m != nil {
		return m
	}
	return s.gaps[routeKey{venue: k.venue, typ: k.typ}] // a second lookup only while markers wait
}

// diffMarkerOfLocked returns a marker waiting about the diffs of the
// book of ev when ev is a book snapshot: a marker about a book's diffs
// reaches the subscribers of its snapshots (fanOut), and displaced from
// a full ordered lane it waits keyed by the diffs' stream, so that the
// snapshots published after it, keyed by theirs, would otherwise go out
// before it and pass for broken. Any view of the symbol's diffs: fanOut
// routes by type, not view, and a book's tops (normalize/book PublishTop
// of n levels: Book.Depth n) are of another view than its diffs (0, the
// whole book, on Binance and Coinbase; Bybit orderbook.50's tops of 5).
// A marker waiting when ev was taken off the lane tells of events
// published before it (drops are of the oldest queued; a displaced marker
// was at the front), so it is never early. Only one made or merged into
// at marks before or earlier (marker.at) is taken: ev staged behind its
// own stream's marker is called for again, and a marker touched
// meanwhile tells of events published after it. Or the marker about
// every symbol's diffs of the venue (markerKeyLocked). Nil when none
// waits.
func (s *Subscription) diffMarkerOfLocked(ev *schema.CanonicalEvent, before uint64) *marker {
	if ev.Type != schema.EventBookSnapshot || s.pending.len() == 0 {
		return nil
	}
	// A symbol's views, a few at most.
	for m := s.books[bookKey(keyOf(ev))]; m != nil; m = m.book {
		if m.at <= before {
			return m
		}
	}
	if m := s.gaps[routeKey{venue: ev.Venue, typ: schema.EventBookUpdate}]; m != nil && m.at <= before {
		return m
	}
	return nil
}

// takeMarkerLocked removes waiting marker m and returns its event.
func (s *Subscription) takeMarkerLocked(m *marker) *schema.CanonicalEvent {
	s.pending.remove(m)
	delete(s.gaps, m.key) // later drops of the stream need a new marker
	if k := m.key; k.typ == schema.EventBookUpdate && k.symbol != "" {
		// Out of its book's chain: one per view of the symbol the
		// subscriber lost diffs of, a few at most.
		b := bookKey(k)
		p := s.books[b]
		switch {
		case p == m && m.book == nil:
			delete(s.books, b)
		case p == m:
			s.books[b] = m.book
		default:
			for p.book != m {
				p = p.book
			}
			p.book = m.book
		}
		m.book = nil
	}
	return m.ev
}

// run is the subscription's goroutine.
func (s *Subscription) run() {
	defer s.exit()
	var clock lagClock
	var lag time.Duration
	ev := s.next(false, 0)
	for ev != nil {
		if !deliver(ev, s.handler, s.ch, s.abort, s.handlerPanicked) {
			s.mu.Lock()
			s.counters.Discarded++
			s.inHand = nil
			s.mu.Unlock()
			return
		}
		if lag = 0; ev.IngestTS > 0 {
			lag = time.Duration(clock.now() - ev.IngestTS)
		}
		ev = s.next(true, lag)
	}
}

// next counts the event just delivered, when delivered is set, and waits
// for the next one; nil means the goroutine must exit. The count is kept
// under the lock the next event is taken under, rather than in an atomic
// of its own: one locked instruction less per event.
func (s *Subscription) next(delivered bool, lag time.Duration) *schema.CanonicalEvent {
	for {
		s.mu.Lock()
		if delivered {
			delivered = false
			s.inHand = nil
			s.counters.Delivered++
			s.counters.WorstLag = max(s.counters.WorstLag, lag)
		}
		if s.state == stateStopped {
			s.mu.Unlock()
			return nil
		}
		if ev := s.popLocked(); ev != nil {
			s.inHand = ev
			s.mu.Unlock()
			return ev
		}
		if s.slow { // every lane is empty: caught up
			s.slow = false
			dropped := s.counters.Dropped - s.episode
			s.mu.Unlock()
			s.d.logCaughtUp(s, dropped)
			continue // events may have come meanwhile
		}
		if s.state == stateDraining {
			s.mu.Unlock()
			return nil
		}
		s.idle = true
		s.mu.Unlock()
		// A plain receive: stop signals wake too, so the goroutine does not
		// park on two channels (a select) every time it runs dry.
		<-s.wake
	}
}

func (s *Subscription) exit() {
	if s.ch != nil {
		close(s.ch)
	}
	s.mu.Lock()
	if s.inHand != nil {
		// Its handler ended the goroutine with runtime.Goexit: the event
		// was handed to it and counts as delivered, as one it panicked on.
		s.inHand = nil
		s.counters.Delivered++
	}
	s.mu.Unlock()
	s.d.forget(s)
	close(s.done)
}

// handlerPanicked counts and logs a panic recovered from the handler, and
// gives the event it failed on to OnPanic.
func (s *Subscription) handlerPanicked(ev *schema.CanonicalEvent, v any, stack []byte) {
	s.countPanic()
	s.d.logPanic(s.countPanic, v, stack, slog.Uint64("subscription_id", s.id), slog.String("subscriber", s.name),
		slog.String("event_type", ev.Type.String()), slog.String("venue", string(ev.Venue)), slog.String("symbol", ev.Symbol))
	if s.onPanic != nil {
		callHandler(ev, func(ev *schema.CanonicalEvent) { s.onPanic(ev, v) }, func(_ *schema.CanonicalEvent, v any, stack []byte) {
			s.countPanic()
			s.d.logPanic(s.countPanic, v, stack, slog.Uint64("subscription_id", s.id), slog.String("subscriber", s.name), slog.String("in", "OnPanic"))
		})
	}
}

// countPanic counts a panic of host code run for s: its handler, OnPanic,
// OnCriticalOverflow or the Logger writing a record about it.
func (s *Subscription) countPanic() { s.panics.Add(1) }

// drain makes the subscription refuse new events and exit once what is
// queued has been delivered.
func (s *Subscription) drain() { startDrain(&s.mu, &s.state, s.wake) }

// stopped reports whether stop was called.
// unlisted tells whether s is no longer among its dispatcher's
// subscribers.
func (s *Subscription) unlisted() bool { return s.gone.Load() }

func (s *Subscription) stopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateStopped
}

// stop makes the subscription refuse new events, releases what is queued
// and makes the goroutine exit as soon as it is not inside the handler. It
// returns how many events it released.
func (s *Subscription) stop() uint64 {
	s.mu.Lock()
	s.state = stateStopped
	n := uint64(s.crit.reset() + s.ord.reset() + s.pending.len() + s.stagedLocked())
	s.ahead.reset()
	clear(s.aheadOf)
	s.staged = nil
	for s.coal.len() > 0 {
		if q := s.coal.pop(); q.live() {
			q.sl.ev = nil
			n++
		}
	}
	s.coalN = 0
	s.pending.reset()
	// Nothing is queued once stopped: the queues' memory goes, also while
	// a route learned before the Unsubscribe still holds s (see index).
	s.crit, s.ord, s.coal = ring[*schema.CanonicalEvent]{}, ring[ordered]{}, ring[queued]{}
	s.slots, s.slotList, s.forgot, s.forgotPrev, s.windows = nil, nil, nil, nil, nil
	s.gaps, s.books, s.stale = nil, nil, nil
	s.counters.Discarded += n
	s.mu.Unlock()
	signal(s.wake)                            // parked: it wakes, sees stateStopped and exits
	s.abortOnce.Do(func() { close(s.abort) }) // sending on ch: the send gives up
	return n
}
