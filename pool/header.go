package pool

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"
)

// Object states kept in the low bits of Header.tag.
const (
	stateFree uintptr = iota // never handed out by a pool (heap clone, new(T))
	stateOut                 // checked out by Get
	stateIdle                // returned by Put (waiting in the pool, or retired with CaptureStacks)

	stateMask uintptr = 3
)

// Header is the ownership record a pooled type embeds:
//
//	type Frame struct {
//		pool.Header
//		Data []byte
//	}
//
// Its zero value means "not from any pool", which is what a heap copy must
// carry: a type's Clone sets the copy's Header to the zero value, so that a
// Put of the clone panics. A copy made by value (`cp := *obj`) keeps the
// original's Header, but the Header records its own address, so the pool
// tells the copy from the object it handed out and a Put of the copy
// panics too. (The copy's Header points at the original, so a copy kept
// keeps its original's memory.)
//
// Reset MUST NOT write the Header, not even with its own value (as in
// `*x = T{Header: x.Header}`): Put claims the object by an atomic
// compare-and-swap on the Header before it calls Reset, and a second Put
// racing with the first reads the Header while Reset runs. Assign the other
// fields one by one; a reflection test (see package schema's) catches a
// field that Reset forgets.
//
// It is two words (16 bytes on a 64-bit platform): the call sites a CaptureStacks pool records
// are kept by the pool, beside the object (see stackBook), not in every
// pooled object of every pool; and the object's state shares a word with
// the Header's own address.
type Header struct {
	owner *core // written once, before the object is first handed out
	// tag points into the Header itself: its own address (a value copy
	// keeps the original's) plus the object's state (state*), which an
	// address of a Header (aligned to a word) leaves in the two low bits;
	// read and written atomically. It is a pointer, not an integer, so
	// that a value copy keeps its original alive: while the copy lives no
	// other object is made at that address, where the copy's bytes
	// (`*n = cp`) would pass for the original's Header.
	tag unsafe.Pointer
}

// addr is h's own address, as tag records it.
func (h *Header) addr() uintptr { return uintptr(unsafe.Pointer(h)) }

// at is the tag of h in state st: a pointer st bytes into h (st < 4, and
// a Header is at least two words).
func (h *Header) at(st uintptr) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(h), st) }

// is reports whether h is the Header of an object (not a value copy of
// one) in state st.
func (h *Header) is(st uintptr) bool { return atomic.LoadPointer(&h.tag) == h.at(st) }

// original reports whether h is where the pool stamped it: false for a
// value copy (cp := *obj) of a pooled object, whose tag names the
// original's address, and for a Header never stamped.
func (h *Header) original() bool {
	return uintptr(atomic.LoadPointer(&h.tag))&^stateMask == h.addr()
}

// set records state st in h's tag.
func (h *Header) set(st uintptr) { atomic.StorePointer(&h.tag, h.at(st)) }

// move changes h's state from old to st, reporting false (nothing
// changed) when h is not an original in state old.
func (h *Header) move(old, st uintptr) bool {
	return atomic.CompareAndSwapPointer(&h.tag, h.at(old), h.at(st))
}

// poolHeader gives the pool access to the record; being unexported, it can
// only be satisfied by embedding Header.
func (h *Header) poolHeader() *Header { return h } //nolint:unused // called through the Object constraint

// Pooled reports whether the object is currently checked out of a pool.
// Heap clones and values made with new report false.
func (h *Header) Pooled() bool {
	return h.owner != nil && h.is(stateOut)
}

// stacks holds the call sites recorded with Options.CaptureStacks. A record
// is immutable once stored in its pool's stackBook: a Get stores a new one,
// a Put stores a copy with its own stack added, so a concurrent reader (a
// racing Put about to panic, a leak report) always sees a whole record.
type stacks struct {
	get, put []uintptr
}

// stackBook is where a CaptureStacks pool keeps the records of the objects
// it handed out, keyed by a weak pointer to each object's Header: the book
// does not keep an object alive, and the object's cleanup deletes its
// entry once the garbage collector took it. (The records were once a field
// of Header: 8 bytes in every pooled object, also in every pool without
// the debug mode and in every clone of a pooled type, for a mode that is
// off in production; a CanonicalEvent's 448 bytes then missed the
// allocator's 28,672-byte size class for 64 clones by 8 bytes.)
type stackBook struct {
	mu sync.Mutex
	m  map[weak.Pointer[Header]]*stacks
}

func newStackBook() *stackBook {
	return &stackBook{m: make(map[weak.Pointer[Header]]*stacks)}
}

// of returns h's record, nil when there is none (no book: the pool does
// not capture stacks).
func (b *stackBook) of(h *Header) *stacks {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[weak.Make(h)]
}

// store sets h's record, arranging at h's first record for the entry to
// go with the object.
func (b *stackBook) store(h *Header, s *stacks) {
	k := weak.Make(h)
	b.mu.Lock()
	_, had := b.m[k]
	b.m[k] = s
	b.mu.Unlock()
	if !had {
		runtime.AddCleanup(h, b.drop, k)
	}
}

func (b *stackBook) drop(k weak.Pointer[Header]) {
	b.mu.Lock()
	delete(b.m, k)
	b.mu.Unlock()
}

// recordGet stores the caller's stack as the place h was taken.
func (b *stackBook) recordGet(h *Header) {
	b.store(h, &stacks{get: callers()})
}

// recordPut adds the caller's stack as the place h was returned.
func (b *stackBook) recordPut(h *Header) {
	s := &stacks{put: callers()}
	if old := b.of(h); old != nil {
		s.get = old.get
	}
	b.store(h, s)
}

// callers returns the stack above the pool's exported method.
func callers() []uintptr {
	var pcs [32]uintptr
	n := runtime.Callers(4, pcs[:])
	return append([]uintptr(nil), pcs[:n]...)
}

// takenAt renders where the object of h was last taken, or "" if unknown
// (its pool does not capture stacks).
func (h *Header) takenAt() string {
	if s := h.owner.book.of(h); s != nil && len(s.get) > 0 {
		return formatStack(s.get)
	}
	return ""
}

func formatStack(pcs []uintptr) string {
	if len(pcs) == 0 {
		return "\t(not recorded)\n"
	}
	var b strings.Builder
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		b.WriteString("\t")
		b.WriteString(f.Function)
		b.WriteString("\n\t\t")
		b.WriteString(f.File)
		b.WriteString(":")
		b.WriteString(strconv.Itoa(f.Line))
		b.WriteString("\n")
		if !more {
			break
		}
	}
	return b.String()
}
