package pool

import (
	"runtime"
	"strings"
	"sync/atomic"
)

// Object states kept in Header.state.
const (
	stateFree uint32 = iota // never pooled (heap clone, new(T)) or idle in its pool
	stateOut                // checked out by Get
	stateIdle               // returned by Put, waiting in the pool
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
// Put of the clone panics. Reset must leave the Header alone.
type Header struct {
	owner *core
	state uint32
	dbg   *stacks
}

// poolHeader gives the pool access to the record; being unexported, it can
// only be satisfied by embedding Header.
func (h *Header) poolHeader() *Header { return h } //nolint:unused // called through the Object constraint

// Pooled reports whether the object is currently checked out of a pool.
// Heap clones and values made with new report false.
func (h *Header) Pooled() bool { return h.owner != nil && atomic.LoadUint32(&h.state) == stateOut }

// stacks holds the call sites recorded with Options.CaptureStacks.
type stacks struct {
	get, put [32]uintptr
	nget     int
	nput     int
}

func (s *stacks) recordGet() { s.nget = runtime.Callers(3, s.get[:]) }
func (s *stacks) recordPut() { s.nput = runtime.Callers(3, s.put[:]) }

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
		b.WriteString(itoa(f.Line))
		b.WriteString("\n")
		if !more {
			break
		}
	}
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[i:])
}
