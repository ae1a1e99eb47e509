package pool

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultShutdownWait is how long Shutdown waits when its context has no
// deadline.
const DefaultShutdownWait = 5 * time.Second

// defaultWait is DefaultShutdownWait, shortened by the package's own tests.
var defaultWait atomic.Int64

func init() { defaultWait.Store(int64(DefaultShutdownWait)) }

// Resettable is a value that can clear itself for reuse. Reset must zero
// every field (except the embedded [Header]) and keep the capacity of slices
// it owns, so that the next user of the object reuses their backing arrays.
type Resettable interface {
	Reset()
}

// Object is the constraint on pooled types: a pointer to a struct that embeds
// [Header] and has a Reset method.
type Object interface {
	comparable
	Resettable
	poolHeader() *Header
}

// Options tune a pool. The zero value (or a nil *Options) gives the defaults.
type Options struct {
	// CaptureStacks is the debug mode. It records the call stack of every
	// Get and Put and names them in misuse panics and leak reports, and it
	// never hands a returned object out again: every Get constructs a fresh
	// object, and a returned one is left to the garbage collector, so any
	// later Put of it — a second Put, or a stale owner's Put long after —
	// always panics. The capacity still bounds the objects checked out at
	// once; Stats.Created then counts every Get. It costs a construction,
	// two stack walks and a few allocations per Get/Put cycle: for tests
	// and debugging. Defaults to false. See the package documentation for
	// what each mode guarantees.
	CaptureStacks bool
}

// preallocate bounds the room a new pool makes for idle objects up front.
const preallocate = 1024

// core is the non-generic identity of a pool; a Header points at it.
type core struct {
	name string
	typ  string
	book *stackBook // with capture only
}

// Pool is a bounded pool of objects of one pointer type. It is safe for
// concurrent use. Objects handed out by Get belong to the caller until it
// calls Put; after Put the caller MUST NOT keep or use any reference to them.
type Pool[T Object] struct {
	core     core
	newFn    func() T
	capacity int
	capture  bool

	mu          sync.Mutex
	idle        []T       // returned objects, ready for reuse; always empty with capture
	out         int       // objects checked out, plus slots handed to waiters
	waiters     []*waiter // Gets waiting for a slot, oldest first
	closed      bool
	drained     chan struct{}        // closed once closed and nothing is out
	outstanding map[*Header]struct{} // with capture only

	gets, puts, created, waits, exhausted atomic.Uint64
	inUse, peak                           atomic.Int64
}

// waiter is a Get waiting for a slot. Put hands its slot over directly
// (out stays the same) and closes ready; Shutdown closes ready with closed
// set.
type waiter struct {
	ready  chan struct{}
	closed bool
}

// New returns a pool named name that lets at most capacity objects be checked
// out at once, making them with newFn as needed; the capacity is a bound, not
// a size (memory goes with the objects made). It panics when capacity < 1
// or newFn is nil: both are programming errors. A panic in newFn (or a nil
// or foreign object from it) comes out of the Get or TryGet that called
// it, and costs the pool nothing: the slot is free again.
func New[T Object](name string, capacity int, newFn func() T, opts *Options) *Pool[T] {
	if capacity < 1 {
		panic(fmt.Sprintf("pool %q: capacity must be at least 1, got %d", name, capacity))
	}
	if newFn == nil {
		panic(fmt.Sprintf("pool %q: nil constructor", name))
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	p := &Pool[T]{
		core:     core{name: name, typ: reflect.TypeFor[T]().String()},
		newFn:    newFn,
		capacity: capacity,
		capture:  o.CaptureStacks,
		drained:  make(chan struct{}),
	}
	// The capacity is a bound, not a size: room for up to preallocate
	// objects up front, more as they come back (amortized: a pool warm at
	// its peak allocates nothing).
	if p.capture {
		p.core.book = newStackBook()
		p.outstanding = make(map[*Header]struct{}, min(capacity, preallocate))
	} else {
		p.idle = make([]T, 0, min(capacity, preallocate))
	}
	return p
}

// Name returns the pool's name.
func (p *Pool[T]) Name() string { return p.core.name }

// Capacity returns the most objects that can be checked out at once.
func (p *Pool[T]) Capacity() int { return p.capacity }

// Get returns a reset object, waiting while the pool is exhausted. When ctx
// ends first, the error matches both [ErrExhausted] and ctx.Err(). After
// Shutdown has begun it returns [ErrClosed]; with a nil ctx,
// [ErrNilContext].
func (p *Pool[T]) Get(ctx context.Context) (T, error) {
	var zero T
	if ctx == nil {
		return zero, ErrNilContext
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return zero, ErrClosed
	}
	if p.out < p.capacity {
		p.out++
		return p.take() // unlocks
	}
	// Exhausted: queue up and wait for a Put to hand over its slot.
	w := &waiter{ready: make(chan struct{})}
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()
	p.waits.Add(1)
	select {
	case <-w.ready:
	case <-ctx.Done():
		p.mu.Lock()
		if i := slices.Index(p.waiters, w); i >= 0 {
			p.waiters = slices.Delete(p.waiters, i, i+1)
			p.mu.Unlock()
			p.exhausted.Add(1)
			return zero, fmt.Errorf("%w: pool %q has all %d %s checked out: %w",
				ErrExhausted, p.core.name, p.capacity, p.core.typ, ctx.Err())
		}
		p.mu.Unlock()
		<-w.ready // the slot was handed over as ctx ended: use it
	}
	p.mu.Lock()
	if w.closed {
		p.mu.Unlock()
		return zero, ErrClosed
	}
	return p.take()
}

// TryGet is Get without waiting: it returns [ErrExhausted] at once when the
// pool is exhausted.
func (p *Pool[T]) TryGet() (T, error) {
	var zero T
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return zero, ErrClosed
	}
	if p.out >= p.capacity {
		p.mu.Unlock()
		p.exhausted.Add(1)
		return zero, ErrExhausted
	}
	p.out++
	return p.take()
}

// take hands out an object for a slot already counted in out. It is called
// with p.mu held and unlocks it. With capture the idle list stays empty, so
// every object is new.
func (p *Pool[T]) take() (T, error) {
	var zero, obj T
	if n := len(p.idle); n > 0 {
		obj = p.idle[n-1]
		p.idle[n-1] = zero
		p.idle = p.idle[:n-1]
	}
	p.mu.Unlock()
	if obj == zero {
		obj = p.make()
	}
	h := obj.poolHeader()
	h.set(stateOut)
	if p.capture {
		p.core.book.recordGet(h)
		p.mu.Lock()
		p.outstanding[h] = struct{}{}
		p.mu.Unlock()
	}
	p.countOut()
	p.gets.Add(1)
	return obj, nil
}

// make builds a new object with the constructor and stamps it as ours.
// When it panics — the constructor's own panic included — the slot taken
// for the object is given back, so that a failing constructor never
// shrinks the pool or strands a waiting Get.
func (p *Pool[T]) make() T {
	var zero T
	made := false
	defer func() {
		if !made {
			p.release()
		}
	}()
	obj := p.newFn()
	if obj == zero {
		panic(fmt.Sprintf("pool %q: constructor returned a nil %s", p.core.name, p.core.typ))
	}
	h := obj.poolHeader()
	if h.owner != nil {
		panic(fmt.Sprintf("pool %q: constructor returned a %s that belongs to pool %q", p.core.name, p.core.typ, h.owner.name))
	}
	h.owner = &p.core
	h.set(stateFree)
	p.created.Add(1)
	made = true
	return obj
}

// Owns reports whether obj is checked out of this pool, so that a caller
// handed an object of unknown origin can refuse it with an error instead of
// letting Put panic.
func (p *Pool[T]) Owns(obj T) bool {
	var zero T
	if obj == zero {
		return false
	}
	h := obj.poolHeader()
	return h.owner == &p.core && h.is(stateOut)
}

// Put resets obj and returns it to the pool. It panics, naming the pool and
// the type, when obj is nil, did not come from this pool (a heap clone, an
// object of another pool) or was already returned; see the package
// documentation for which misuse each mode is sure to catch. With
// CaptureStacks the panic also shows where the object was taken and where
// it was first returned.
//
// A Reset that panics, or that changes the Header, costs the pool
// nothing: the object is dropped (never handed out again), its slot is
// free again, it counts as returned, and Put panics (with Reset's own
// panic, or one naming the Header). A Reset that writes the Header's own
// value back is not seen (see the package documentation).
//
// Put claims the object (an atomic compare-and-swap on its [Header]) before
// it calls Reset, so of two goroutines putting the same object at once
// exactly one returns it and the other panics, with no data race as long
// as Reset leaves the Header alone.
func (p *Pool[T]) Put(obj T) {
	var zero T
	if obj == zero {
		panic(fmt.Sprintf("pool %q: Put of a nil %s", p.core.name, p.core.typ))
	}
	h := obj.poolHeader()
	switch {
	case h.owner == nil:
		panic(fmt.Sprintf("pool %q: Put of a %s that did not come from any pool (a heap clone, or made with new)", p.core.name, p.core.typ))
	case h.owner != &p.core:
		msg := fmt.Sprintf("pool %q: Put of a %s that belongs to pool %q", p.core.name, p.core.typ, h.owner.name)
		if at := h.takenAt(); at != "" {
			msg += fmt.Sprintf("\ntaken from pool %q by Get at:\n%s", h.owner.name, at)
		} else {
			msg += fmt.Sprintf(" (where it was taken is not recorded: pool %q has CaptureStacks off)", h.owner.name)
		}
		panic(msg)
	case !h.original():
		// A value copy (cp := *obj) carries the original's Header, state
		// "out" included: accepting it would count the checkout twice and
		// put memory the pool never handed out on its free list.
		panic(fmt.Sprintf("pool %q: Put of a copy of a %s (copied by value from a pooled object; Put the object Get returned, or use the type's Clone for a copy to keep)", p.core.name, p.core.typ))
	}
	if !h.move(stateOut, stateIdle) {
		panic(p.secondPut(h))
	}
	// The object is ours from here on: nobody else may write it.
	if p.capture {
		p.core.book.recordPut(h)
	}
	// Reset is the host's code. When it panics, or writes the Header (which
	// Header's doc forbids), the object is dropped rather than reused half
	// reset, its slot comes back all the same, and the panic goes on: the
	// host's bug costs the pool nothing, as a panicking constructor does.
	reset := false
	defer func() {
		if !reset {
			p.giveBack(obj, false)
		}
	}()
	obj.Reset()
	reset = true
	if h.owner != &p.core || !h.is(stateIdle) {
		h.owner = &p.core // a later stale Put is then a second Put
		h.set(stateIdle)
		p.giveBack(obj, false)
		panic(fmt.Sprintf("pool %q: the Reset of a %s wrote its Header (Reset must assign the other fields one by one and leave the embedded pool.Header alone); the object is dropped", p.core.name, p.core.typ))
	}
	p.giveBack(obj, true)
}

// giveBack counts a claimed object back in and frees its slot; reuse puts
// it on the idle list (never with capture, which retires every object).
func (p *Pool[T]) giveBack(obj T, reuse bool) {
	p.puts.Add(1)
	p.inUse.Add(-1)
	p.mu.Lock()
	if p.capture {
		delete(p.outstanding, obj.poolHeader()) // retired: never handed out again
	} else if reuse {
		p.idle = append(p.idle, obj)
	}
	p.releaseLocked()
}

// secondPut is the panic message for a Put of an object that is not checked
// out.
func (p *Pool[T]) secondPut(h *Header) string {
	msg := fmt.Sprintf("pool %q: second Put of a %s (already returned; the caller kept a reference after Put)", p.core.name, p.core.typ)
	if s := p.core.book.of(h); s != nil {
		return msg + "\nfirst Put at:\n" + formatStack(s.put) + "taken by Get at:\n" + formatStack(s.get)
	}
	return msg + " (set Options.CaptureStacks to see where it was taken and returned)"
}

// release gives back a slot without an object (a failed construction).
func (p *Pool[T]) release() {
	p.mu.Lock()
	p.releaseLocked()
}

// releaseLocked frees one slot: to the oldest waiter if there is one, else
// back to the pool. Called with p.mu held; unlocks it.
func (p *Pool[T]) releaseLocked() {
	if len(p.waiters) > 0 {
		w := p.waiters[0]
		p.waiters[0] = nil
		p.waiters = p.waiters[1:]
		p.mu.Unlock()
		close(w.ready)
		return
	}
	p.out--
	if p.closed && p.out == 0 {
		close(p.drained)
	}
	p.mu.Unlock()
}

func (p *Pool[T]) countOut() {
	n := p.inUse.Add(1)
	for {
		pk := p.peak.Load()
		if n <= pk || p.peak.CompareAndSwap(pk, n) {
			return
		}
	}
}

// Shutdown refuses new Gets (they return [ErrClosed], and so do Gets already
// waiting) and waits for every checked-out object to come back. When ctx
// ends first (after [DefaultShutdownWait] if ctx has no deadline) it returns
// a [*LeakError] that matches [ErrLeaked] and ctx.Err(). Calling it again
// waits again. A nil ctx returns [ErrNilContext], the pool left open.
func (p *Pool[T]) Shutdown(ctx context.Context) error {
	if ctx == nil {
		return ErrNilContext
	}
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		for _, w := range p.waiters {
			w.closed = true
			close(w.ready)
		}
		p.waiters = nil
		if p.out == 0 {
			close(p.drained)
		}
	}
	p.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(defaultWait.Load()))
		defer cancel()
	}
	select {
	case <-p.drained:
		return nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out == 0 { // returned in the last instant
		return nil
	}
	le := &LeakError{Pool: p.core.name, Type: p.core.typ, Outstanding: int64(p.out), Err: ctx.Err()}
	for h := range p.outstanding {
		le.Stacks = append(le.Stacks, h.takenAt())
	}
	return le
}

// Stats is a snapshot of a pool's counters.
type Stats struct {
	Name      string // pool name
	Type      string // element type
	Capacity  int    // most objects out at once
	Gets      uint64 // successful Gets and TryGets
	Puts      uint64 // Puts
	Created   uint64 // objects made by the constructor
	InUse     int64  // objects checked out now
	PeakInUse int64  // most objects checked out at once so far
	Waits     uint64 // Gets that found the pool exhausted and waited
	Exhausted uint64 // Gets that gave up and TryGets that failed
}

// Stats returns the pool's counters. It takes no lock and allocates nothing,
// so it can be read as often as needed.
func (p *Pool[T]) Stats() Stats {
	return Stats{
		Name:      p.core.name,
		Type:      p.core.typ,
		Capacity:  p.capacity,
		Gets:      p.gets.Load(),
		Puts:      p.puts.Load(),
		Created:   p.created.Load(),
		InUse:     p.inUse.Load(),
		PeakInUse: p.peak.Load(),
		Waits:     p.waits.Load(),
		Exhausted: p.exhausted.Load(),
	}
}
