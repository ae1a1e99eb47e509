package dispatch

import (
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
	// subscription) but not Close. When nil, events are sent on the channel
	// returned by [Subscription.C]. Defaults to nil.
	Handler func(*schema.CanonicalEvent)
	// CriticalBound is how many critical events (execution reports, order
	// acks, control and gap markers) may wait before the lane is over its
	// bound. Critical events are never dropped: beyond the bound the lane
	// grows, each such event is counted in [Stats.Overflowed], and
	// [Options.OnCriticalOverflow] is called once on the way over.
	// Defaults to DefaultCriticalBound.
	CriticalBound int
	// OrderedBound is how many ordered events (trades, book snapshots and
	// diffs, closed klines, liquidations) may wait. When the lane is full
	// the oldest is dropped and a gap marker queued. Defaults to
	// DefaultOrderedBound.
	OrderedBound int
}

// Stats is a snapshot of one subscription's counters.
type Stats struct {
	Delivered  uint64        // events handed to the handler or received from C
	Coalesced  uint64        // queued coalescable events replaced by a newer one of their stream
	Dropped    uint64        // ordered events dropped because the lane was full
	Gaps       uint64        // gap markers queued for those drops
	Overflowed uint64        // critical events queued beyond CriticalBound (none lost)
	Discarded  uint64        // queued events released at Unsubscribe or at a Close that timed out
	Critical   int           // critical events queued now
	Coalescing int           // coalescable events queued now
	Ordered    int           // ordered events queued now
	Depth      int           // all events queued now
	MaxDepth   int           // most events queued at once so far
	WorstLag   time.Duration // longest delivery time minus IngestTS so far
}

// Subscription is one subscriber's queues and delivery goroutine. It is
// created by [Dispatcher.Subscribe] and is safe for concurrent use.
type Subscription struct {
	d       *Dispatcher
	id      uint64
	m       matcher
	handler func(*schema.CanonicalEvent)
	ch      chan *schema.CanonicalEvent // nil with a handler
	wake    chan struct{}               // capacity 1: the queue is no longer empty
	abort   chan struct{}               // closed to stop at once
	done    chan struct{}               // closed when the goroutine has exited

	critBound, ordBound int
	abortOnce           sync.Once

	mu       sync.Mutex
	state    subState
	idle     bool // the goroutine found every lane empty and waits for wake
	over     bool // the critical lane is over its bound
	seq      uint64
	crit     ring[*schema.CanonicalEvent]
	ord      ring[ordered]
	coal     ring[*slot]
	slots    map[routeKey]*slot                  // per coalescable stream, for the stream's life
	gaps     map[routeKey]*schema.CanonicalEvent // gap markers queued and not yet delivered
	counters Stats                               // counters kept under mu

	delivered atomic.Uint64
	worstLag  atomic.Int64
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

// slot is the coalescing lane's place for one stream. ev is nil when
// nothing of the stream is queued. seq is the arrival number of the event
// that queued the slot; a replacement keeps it, so the stream keeps its
// place in line.
type slot struct {
	ev  *schema.CanonicalEvent
	seq uint64
}

func newSubscription(d *Dispatcher, id uint64, f Filter, o SubscribeOptions) *Subscription {
	if o.CriticalBound <= 0 {
		o.CriticalBound = DefaultCriticalBound
	}
	if o.OrderedBound <= 0 {
		o.OrderedBound = DefaultOrderedBound
	}
	s := &Subscription{
		d:         d,
		id:        id,
		m:         compile(f),
		handler:   o.Handler,
		wake:      make(chan struct{}, 1),
		abort:     make(chan struct{}),
		done:      make(chan struct{}),
		critBound: o.CriticalBound,
		ordBound:  o.OrderedBound,
		crit:      newRing[*schema.CanonicalEvent](min(o.CriticalBound, 64)),
		ord:       newRing[ordered](o.OrderedBound),
		coal:      newRing[*slot](16),
		slots:     make(map[routeKey]*slot),
	}
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

// Stats returns the subscription's counters and queue depths.
func (s *Subscription) Stats() Stats {
	s.mu.Lock()
	st := s.counters
	st.Critical, st.Coalescing, st.Ordered = s.crit.len(), s.coal.len(), s.ord.len()
	st.Depth = s.depthLocked()
	s.mu.Unlock()
	st.Delivered = s.delivered.Load()
	st.WorstLag = time.Duration(s.worstLag.Load())
	return st
}

func (s *Subscription) depthLocked() int { return s.crit.len() + s.coal.len() + s.ord.len() }

// enqueue queues a clone of ev in the lane of its class. It reports false
// when the subscription takes no more events, and alarm when the critical
// lane has just gone over its bound.
func (s *Subscription) enqueue(ev *schema.CanonicalEvent) (ok, alarm bool) {
	t := ev.Type
	var c *schema.CanonicalEvent
	if !t.Coalescable() { // clone outside the lock; coalescing may not need one
		c = cloneEvent(ev)
	}
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return false, false
	}
	switch {
	case t.Critical():
		alarm = s.pushCriticalLocked(c)
	case c == nil:
		if !s.coalesceLocked(ev) {
			s.mu.Unlock()
			return true, false // replaced in place: already queued, the goroutine is not idle
		}
	default:
		if s.ord.len() >= s.ordBound {
			alarm = s.dropOldestLocked()
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
	return true, alarm
}

// coalesceLocked puts ev in its stream's slot. It reports whether the slot
// was newly queued (false: a queued event was replaced).
func (s *Subscription) coalesceLocked(ev *schema.CanonicalEvent) bool {
	k := keyOf(ev)
	sl := s.slots[k]
	if sl == nil {
		sl = new(slot)
		s.slots[k] = sl
	}
	if sl.ev != nil {
		if !copyInto(sl.ev, ev) {
			sl.ev = cloneEvent(ev)
		}
		s.counters.Coalesced++
		return false
	}
	s.seq++
	sl.ev, sl.seq = cloneEvent(ev), s.seq
	s.coal.push(sl)
	return true
}

func (s *Subscription) pushCriticalLocked(c *schema.CanonicalEvent) (alarm bool) {
	s.crit.push(c)
	if s.crit.len() <= s.critBound {
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
// the gap marker of its stream: the one still queued, or a new one on the
// critical lane. Since the critical lane is delivered first, the marker
// reaches the subscriber before the next event of the stream.
func (s *Subscription) dropOldestLocked() (alarm bool) {
	old := s.ord.pop().ev
	s.counters.Dropped++
	first, last := seqRange(old)
	k := keyOf(old)
	if g := s.gaps[k]; g != nil {
		g.Control.GapCount++
		if g.Control.GapLastSeq != 0 && last != 0 {
			g.Control.GapLastSeq = last
		} else {
			g.Control.GapFirstSeq, g.Control.GapLastSeq = 0, 0 // range no longer known
		}
		return false
	}
	g := &schema.CanonicalEvent{
		Venue:      old.Venue,
		Symbol:     old.Symbol,
		Type:       schema.EventGap,
		ExchangeTS: old.ExchangeTS,
		IngestTS:   old.IngestTS,
		Control: schema.Control{
			Kind:        schema.ControlGap,
			GapType:     old.Type,
			GapCount:    1,
			GapFirstSeq: first,
			GapLastSeq:  last,
		},
	}
	if first == 0 || last == 0 {
		g.Control.GapFirstSeq, g.Control.GapLastSeq = 0, 0
	}
	if s.gaps == nil {
		s.gaps = make(map[routeKey]*schema.CanonicalEvent)
	}
	s.gaps[k] = g
	s.counters.Gaps++
	return s.pushCriticalLocked(g)
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

// popLocked takes the next event to deliver: critical first, then market
// data in arrival order across the ordered and coalescing lanes.
func (s *Subscription) popLocked() *schema.CanonicalEvent {
	if s.crit.len() > 0 {
		ev := s.crit.pop()
		if s.over && s.crit.len() <= s.critBound {
			s.over = false
		}
		if ev.Type == schema.EventGap {
			k := routeKey{venue: ev.Venue, symbol: ev.Symbol, typ: ev.Control.GapType}
			if s.gaps[k] == ev {
				delete(s.gaps, k) // delivered: later drops need a new marker
			}
		}
		return ev
	}
	o, c := s.ord.len() > 0, s.coal.len() > 0
	if o && (!c || s.ord.peek().seq < s.coal.peek().seq) {
		return s.ord.pop().ev
	}
	if c {
		sl := s.coal.pop()
		ev := sl.ev
		sl.ev = nil
		return ev
	}
	return nil
}

// run is the subscription's goroutine.
func (s *Subscription) run() {
	defer s.exit()
	for {
		ev := s.next()
		if ev == nil {
			return
		}
		if !deliver(ev, s.handler, s.ch, s.abort) {
			s.mu.Lock()
			s.counters.Discarded++
			s.mu.Unlock()
			return
		}
		s.delivered.Add(1)
		if ev.IngestTS > 0 {
			lag := time.Now().UnixNano() - ev.IngestTS
			for w := s.worstLag.Load(); lag > w && !s.worstLag.CompareAndSwap(w, lag); w = s.worstLag.Load() {
			}
		}
	}
}

// next waits for the next event; nil means the goroutine must exit.
func (s *Subscription) next() *schema.CanonicalEvent {
	for {
		s.mu.Lock()
		if s.state == stateStopped {
			s.mu.Unlock()
			return nil
		}
		if ev := s.popLocked(); ev != nil {
			s.mu.Unlock()
			return ev
		}
		if s.state == stateDraining {
			s.mu.Unlock()
			return nil
		}
		s.idle = true
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-s.abort:
		}
	}
}

func (s *Subscription) exit() {
	if s.ch != nil {
		close(s.ch)
	}
	s.d.forget(s)
	close(s.done)
}

// drain makes the subscription refuse new events and exit once what is
// queued has been delivered.
func (s *Subscription) drain() { startDrain(&s.mu, &s.state, s.wake) }

// stop makes the subscription refuse new events, releases what is queued
// and makes the goroutine exit as soon as it is not inside the handler. It
// returns how many events it released.
func (s *Subscription) stop() uint64 {
	s.mu.Lock()
	s.state = stateStopped
	n := uint64(s.crit.reset() + s.ord.reset())
	for s.coal.len() > 0 {
		s.coal.pop().ev = nil
		n++
	}
	clear(s.gaps)
	s.counters.Discarded += n
	s.mu.Unlock()
	s.abortOnce.Do(func() { close(s.abort) })
	return n
}
