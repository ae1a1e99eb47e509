package pool

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultShutdownWait is how long Shutdown waits when its context has no
// deadline.
const DefaultShutdownWait = 5 * time.Second

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
	// CaptureStacks records the call stack of every Get and Put, names them
	// in misuse panics and leak reports, and quarantines returned objects so
	// that a Put by a stale owner is caught. It costs two stack walks per
	// Get/Put cycle: for tests and debugging. Defaults to false.
	CaptureStacks bool
	// Quarantine is how many returned objects wait before one is reused,
	// with CaptureStacks only; the pool may then hold up to capacity +
	// Quarantine objects in all. Defaults to the capacity.
	Quarantine int
}

// core is the non-generic identity of a pool; a Header points at it.
type core struct {
	name string
	typ  string
}

// Pool is a bounded pool of *E values of one type. It is safe for concurrent
// use. Objects handed out by Get belong to the caller until it calls Put;
// after Put the caller MUST NOT keep or use any reference to them.
type Pool[T Object] struct {
	core     core
	newFn    func() T
	capacity int
	capture  bool
	quar     int

	sem       chan struct{} // one token per checked-out object
	closing   chan struct{} // closed when Shutdown begins
	closeOnce sync.Once
	closed    atomic.Bool
	drained   chan struct{} // closed when closed and nothing is out
	drainOnce sync.Once

	mu          sync.Mutex
	idle        []T
	outstanding map[*Header]struct{} // with capture only

	gets, puts, created, waits, exhausted atomic.Uint64
	inUse, peak                           atomic.Int64
}

// New returns a pool named name that lets at most capacity objects be checked
// out at once, making them with newFn as needed. It panics when capacity < 1
// or newFn is nil: both are programming errors.
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
		sem:      make(chan struct{}, capacity),
		closing:  make(chan struct{}),
		drained:  make(chan struct{}),
	}
	if p.capture {
		p.quar = o.Quarantine
		if p.quar <= 0 {
			p.quar = capacity
		}
		p.outstanding = make(map[*Header]struct{}, capacity)
	}
	p.idle = make([]T, 0, capacity+p.quar)
	return p
}

// Name returns the pool's name.
func (p *Pool[T]) Name() string { return p.core.name }

// Capacity returns the most objects that can be checked out at once.
func (p *Pool[T]) Capacity() int { return p.capacity }

// Get returns a reset object, waiting while the pool is exhausted. When ctx
// ends first, the error matches both [ErrExhausted] and ctx.Err(). After
// Shutdown has begun it returns [ErrClosed].
func (p *Pool[T]) Get(ctx context.Context) (T, error) {
	var zero T
	if p.closed.Load() {
		return zero, ErrClosed
	}
	select {
	case p.sem <- struct{}{}:
	default:
		p.waits.Add(1)
		select {
		case p.sem <- struct{}{}:
		case <-ctx.Done():
			p.exhausted.Add(1)
			return zero, fmt.Errorf("%w: pool %q has all %d %s checked out: %w",
				ErrExhausted, p.core.name, p.capacity, p.core.typ, ctx.Err())
		case <-p.closing:
			return zero, ErrClosed
		}
	}
	return p.take()
}

// TryGet is Get without waiting: it returns [ErrExhausted] at once when the
// pool is exhausted.
func (p *Pool[T]) TryGet() (T, error) {
	var zero T
	if p.closed.Load() {
		return zero, ErrClosed
	}
	select {
	case p.sem <- struct{}{}:
	default:
		p.exhausted.Add(1)
		return zero, ErrExhausted
	}
	return p.take()
}

// take hands out an object once a token is held.
func (p *Pool[T]) take() (T, error) {
	var zero T
	// Count the object out before looking at closed again: Shutdown sets
	// closed and then reads inUse, so one of the two sees the other.
	p.countOut()
	if p.closed.Load() {
		p.countIn()
		<-p.sem
		return zero, ErrClosed
	}
	var obj T
	p.mu.Lock()
	if n := len(p.idle); n > p.quar {
		if p.capture { // FIFO: the longest-returned object goes first
			obj = p.idle[0]
			copy(p.idle, p.idle[1:])
			p.idle[n-1] = zero
		} else {
			obj = p.idle[n-1]
			p.idle[n-1] = zero
		}
		p.idle = p.idle[:n-1]
	}
	p.mu.Unlock()
	if obj == zero {
		obj = p.newFn()
		if obj == zero {
			panic(fmt.Sprintf("pool %q: constructor returned a nil %s", p.core.name, p.core.typ))
		}
		h := obj.poolHeader()
		if h.owner != nil {
			panic(fmt.Sprintf("pool %q: constructor returned a %s that belongs to pool %q", p.core.name, p.core.typ, h.owner.name))
		}
		h.owner = &p.core
		p.created.Add(1)
	}
	h := obj.poolHeader()
	atomic.StoreUint32(&h.state, stateOut)
	if p.capture {
		if h.dbg == nil {
			h.dbg = new(stacks)
		}
		h.dbg.recordGet()
		h.dbg.nput = 0
		p.mu.Lock()
		p.outstanding[h] = struct{}{}
		p.mu.Unlock()
	}
	p.gets.Add(1)
	return obj, nil
}

// Put resets obj and returns it to the pool. It panics, naming the pool and
// the type, when obj is nil, did not come from this pool (a heap clone, an
// object of another pool) or was already returned. With CaptureStacks the
// panic also shows where the object was taken and first returned.
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
		panic(fmt.Sprintf("pool %q: Put of a %s that belongs to pool %q", p.core.name, p.core.typ, h.owner.name))
	}
	if !atomic.CompareAndSwapUint32(&h.state, stateOut, stateIdle) {
		msg := fmt.Sprintf("pool %q: second Put of a %s (already returned; the caller kept a reference after Put)", p.core.name, p.core.typ)
		if h.dbg != nil {
			msg += "\nfirst Put at:\n" + formatStack(h.dbg.put[:h.dbg.nput]) + "taken by Get at:\n" + formatStack(h.dbg.get[:h.dbg.nget])
		}
		panic(msg)
	}
	if p.capture {
		h.dbg.recordPut()
	}
	obj.Reset()
	p.mu.Lock()
	p.idle = append(p.idle, obj)
	if p.capture {
		delete(p.outstanding, h)
	}
	p.mu.Unlock()
	p.puts.Add(1)
	p.countIn()
	<-p.sem
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

func (p *Pool[T]) countIn() {
	if p.inUse.Add(-1) == 0 && p.closed.Load() {
		p.drainOnce.Do(func() { close(p.drained) })
	}
}

// Shutdown refuses new Gets (they return [ErrClosed]) and waits for every
// checked-out object to come back. When ctx ends first (after
// [DefaultShutdownWait] if ctx has no deadline) it returns a [*LeakError]
// that matches [ErrLeaked] and ctx.Err(). Calling it again waits again.
func (p *Pool[T]) Shutdown(ctx context.Context) error {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		close(p.closing)
	})
	if p.inUse.Load() == 0 {
		p.drainOnce.Do(func() { close(p.drained) })
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultShutdownWait)
		defer cancel()
	}
	select {
	case <-p.drained:
		return nil
	case <-ctx.Done():
	}
	le := &LeakError{Pool: p.core.name, Type: p.core.typ, Outstanding: p.inUse.Load(), Err: ctx.Err()}
	if le.Outstanding == 0 { // returned in the last instant
		return nil
	}
	if p.capture {
		p.mu.Lock()
		for h := range p.outstanding {
			le.Stacks = append(le.Stacks, formatStack(h.dbg.get[:h.dbg.nget]))
		}
		p.mu.Unlock()
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
