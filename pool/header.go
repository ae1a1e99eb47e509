package pool

import (
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"
)

// Object states kept in Header.state.
const (
	stateFree uint32 = iota // never handed out by a pool (heap clone, new(T))
	stateOut                // checked out by Get
	stateIdle               // returned by Put (waiting in the pool, or retired with CaptureStacks)
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
// panics too.
//
// Reset MUST NOT write the Header, not even with its own value (as in
// `*x = T{Header: x.Header}`): Put claims the object by an atomic
// compare-and-swap on the Header before it calls Reset, and a second Put
// racing with the first reads the Header while Reset runs. Assign the other
// fields one by one; a reflection test (see package schema's) catches a
// field that Reset forgets.
type Header struct {
	owner *core          // written once, before the object is first handed out
	self  *Header        // the Header's own address, written with owner: a value copy keeps the original's
	state uint32         // atomic
	dbg   unsafe.Pointer // *stacks, atomic; a record is never modified once stored
}

// poolHeader gives the pool access to the record; being unexported, it can
// only be satisfied by embedding Header.
func (h *Header) poolHeader() *Header { return h } //nolint:unused // called through the Object constraint

// Pooled reports whether the object is currently checked out of a pool.
// Heap clones and values made with new report false.
func (h *Header) Pooled() bool {
	return h.owner != nil && h.self == h && atomic.LoadUint32(&h.state) == stateOut
}

// stacks holds the call sites recorded with Options.CaptureStacks. A record
// is immutable once published in Header.dbg: a Get stores a new one, a Put
// stores a copy with its own stack added, so a concurrent reader (a racing
// Put about to panic, a leak report) always sees a whole record.
type stacks struct {
	get, put []uintptr
}

func (h *Header) stacks() *stacks { return (*stacks)(atomic.LoadPointer(&h.dbg)) }

// recordGet stores the caller's stack as the place the object was taken.
func (h *Header) recordGet() {
	atomic.StorePointer(&h.dbg, unsafe.Pointer(&stacks{get: callers()}))
}

// recordPut adds the caller's stack as the place the object was returned.
func (h *Header) recordPut() {
	s := &stacks{put: callers()}
	if old := h.stacks(); old != nil {
		s.get = old.get
	}
	atomic.StorePointer(&h.dbg, unsafe.Pointer(s))
}

// callers returns the stack above the pool's exported method.
func callers() []uintptr {
	var pcs [32]uintptr
	n := runtime.Callers(4, pcs[:])
	return append([]uintptr(nil), pcs[:n]...)
}

// takenAt renders where the object was last taken, or "" if unknown.
func (h *Header) takenAt() string {
	if s := h.stacks(); s != nil && len(s.get) > 0 {
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
