package dispatch

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/meltica/meltica/schema"
)

// inline is an inline subscription's state (SubscribeOptions.Inline): its
// handler runs on the publisher's goroutine inside Publish, so there is no
// queue, no goroutine and no lock, only these counters, each touched with
// one atomic instruction per call.
//
// state holds the count of calls admitted (the handler called or about
// to be) in its low bits and stopped in its top bit (stoppedBit);
// finished counts the calls that returned (normally, by a recovered
// panic, or by runtime.Goexit). A call is admitted by one compare-and-swap
// of state that finds stopped clear and adds one; stop sets the bit with
// one atomic or. Admission and stop are thus ordered, one atomic step
// each: once the bit is set the count of calls admitted is final (a call
// admitted before runs; none after), so Stats reads it exactly, and once
// it equals finished no call runs and none can start: done is closed
// then, by whichever of stop and the last call to finish sees it first.
// (Session 43 admitted by adding to started between two reads of a
// separate stopped flag; a stop between them read a call in hand that
// the publisher then took back: InHand 1 after Done closed, seen by
// TestS44dispUnsubscribeFreezesInlineCounts.)
type inline struct {
	state    atomic.Uint64 // calls admitted | stoppedBit
	finished atomic.Uint64
	typ      atomic.Uint32 // the type of the event of the call started last (Stats.InHandType)
	doneOnce sync.Once
}

// stoppedBit is inline.state's stopped flag; the bits below count the
// calls admitted (2^63 of them: not reached).
const stoppedBit = 1 << 63

// admit counts one call in, reporting false (nothing counted) when in is
// stopped. It retries only when another publisher admitted a call
// between its load and its swap.
func (in *inline) admit() bool {
	for {
		v := in.state.Load()
		if v&stoppedBit != 0 {
			return false
		}
		if in.state.CompareAndSwap(v, v+1) {
			return true
		}
	}
}

// started returns the count of calls admitted.
func (in *inline) started() uint64 { return in.state.Load() &^ stoppedBit }

// deliverInline calls s's handler with its clone of cl's event, on the
// publisher's goroutine. It reports false when s is stopped (the event
// is not s's: nothing taken, nothing counted). cl moves on to the next
// subscription before the handler runs: a handler that ends the
// goroutine (runtime.Goexit) leaves cl ready for offer's deferred rest.
func (s *Subscription) deliverInline(cl *clones) bool {
	if !s.in.admit() {
		cl.next()
		return false
	}
	c := cl.take()
	cl.next()
	// Stored only when it changes: a feed's calls are mostly of one type,
	// and a plain load costs none of the store's locked instruction.
	if t := uint32(c.Type); s.in.typ.Load() != t {
		s.in.typ.Store(t)
	}
	s.callInline(c)
	return true
}

// callInline runs the handler, recovering a panic as a queued handler's is
// (counted, logged, OnPanic). The event counts as delivered however the
// call ends. A handler (or OnPanic, or the Logger) that ends the goroutine
// with runtime.Goexit — t.FailNow in a test's handler — ends the
// subscription, as it ends a queued one: the goroutine it ended is the
// publisher's, and calling the handler again would only fail again.
// Publish still goes on (offer, deferred) with the subscribers after s.
// Close looks for this function on its caller's stack (inInlineHandler):
// keep its name.
func (s *Subscription) callInline(ev *schema.CanonicalEvent) {
	returned := false
	defer func() {
		s.in.finished.Add(1)
		s.settleOutside()
		if !returned {
			_ = s.d.Unsubscribe(s) // after Close: stopped already
		}
	}()
	callHandler(ev, s.handler, s.handlerPanicked)
	returned = true
}

// settle closes done once s is stopped and no call runs (see inline),
// reporting whether this call closed it.
func (s *Subscription) settle() (closed bool) {
	in := s.in
	if v := in.state.Load(); v&stoppedBit != 0 && in.finished.Load() == v&^stoppedBit {
		in.doneOnce.Do(func() { close(s.done); closed = true })
	}
	return closed
}

// settleOutside is settle on a publisher's goroutine, which holds no lock
// of the dispatcher's: when it closes done, the dispatcher forgets s
// (Unsubscribe left it among the inline subscriptions Close waits for
// while a call ran).
func (s *Subscription) settleOutside() {
	if s.settle() {
		s.d.mu.Lock()
		delete(s.d.inlines, s)
		s.d.mu.Unlock()
	}
}

// ended reports whether done is closed.
func (s *Subscription) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stopInline stops s: no call starts from now on; a call already started
// (on another goroutine, or the one stopInline is called from) runs to its
// end, and done is closed when the last one returns. It does not wait:
// an inline handler may unsubscribe itself, or another inline
// subscription whose call it is nested in.
func (s *Subscription) stopInline() {
	s.in.state.Or(stoppedBit)
	s.gone.Store(true)
	s.settle()
}

// inlineStats is Stats of an inline subscription: Delivered the calls
// that returned, InHand those running now (more than one when several
// goroutines publish, or a handler publishes to itself), InHandType the
// type of the one started last. The identity of Stats holds in every
// snapshot (accepted = Delivered + InHand: nothing is ever queued,
// dropped, coalesced or discarded). WorstLag stays 0: see the package
// doc.
func (s *Subscription) inlineStats() Stats {
	fin, started := s.in.counts()
	st := Stats{Delivered: fin, Panics: s.panics.Load()}
	if run := started - fin; run > 0 {
		st.InHand, st.InHandType = int(run), schema.EventType(s.in.typ.Load())
	}
	return st
}

// counts reads finished and started as at one instant: finished read
// before and after started, and the same both times, was the count when
// started was read. Read once each, finished before started, the calls
// that started and finished between the two reads would count in hand
// (hundreds, seen with two busy publishers); after a few tries (publishers
// finishing calls without pause) it settles for that: every call admitted
// is still counted once, in Delivered or in InHand.
func (in *inline) counts() (finished, started uint64) {
	for range 64 {
		finished = in.finished.Load()
		started = in.started()
		if in.finished.Load() == finished {
			return finished, started
		}
	}
	return finished, started
}

// idle reports whether no call of the handler runs: every Publish that
// reached s and returned has had it handled.
func (in *inline) idle() bool {
	finished, started := in.counts()
	return finished == started
}

// inlineLane is what Close needs of an inline subscription: nothing to
// drain or release, only the calls running to wait for (Done).
type inlineLane struct{ s *Subscription }

func (l inlineLane) drain()                { l.s.stopInline() }
func (l inlineLane) stop() uint64          { return 0 }
func (l inlineLane) Done() <-chan struct{} { return l.s.done }

// callInlineName is callInline's name as the runtime reports it.
const callInlineName = "dispatch.(*Subscription).callInline"

// inInlineHandler reports whether the caller runs inside an inline
// handler's call (callInline is on its stack). Close asks: it waits for
// the inline calls running, its caller's own among them, which cannot
// return while it waits. A stack walk costs microseconds; Close is rare
// and no Publish pays it.
func inInlineHandler() bool {
	pcs := make([]uintptr, 64)
	for skip := 2; ; skip += len(pcs) {
		n := runtime.Callers(skip, pcs)
		frames := runtime.CallersFrames(pcs[:n])
		for {
			f, more := frames.Next()
			if strings.HasSuffix(f.Function, callInlineName) {
				return true
			}
			if !more {
				break
			}
		}
		if n < len(pcs) {
			return false
		}
	}
}
