package pool_test

import (
	"context"
	"runtime"
	"testing"
	"unsafe"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
)

// A value copy of a pooled object (cp := *obj) carries the original's
// Header, which names the original's address. When that address was an
// integer, nothing kept the original alive: once a CaptureStacks pool
// retired it (or a host leaked it) and the garbage collector freed it, a
// new object could be made at the same address, and the copy's bytes
// written there (*n = cp) made a Put of n pass as the original's, checked
// out: counted back twice, and Owns reported it. The copy's Header now
// keeps the original alive, as a pointer to it, so its address is never
// another object's while the copy lives.
func TestS47rvCopyKeepsItsOriginalsAddress(t *testing.T) {
	p := newPool(t, 4, &pool.Options{CaptureStacks: true})
	it, err := p.Get(context.Background())
	require.NoError(t, err)
	cp := new(item)
	*cp = *it // the copy, heap-allocated (as a value kept in a struct would be)
	w := weak.Make(it)
	addr := uintptr(unsafe.Pointer(it))
	p.Put(it) // retired: the pool keeps no reference
	it = nil  //nolint:ineffassign,wastedassign // the original is unreachable but through cp
	_ = it
	runtime.GC()
	runtime.GC()
	assert.NotNil(t, w.Value(), "the copy's Header keeps the original alive")

	// Had it been freed, its address would soon be another object's.
	reused := false
	var keep []*item
	for range 1 << 16 {
		n := new(item)
		if uintptr(unsafe.Pointer(n)) == addr {
			*n = *cp
			reused = true
			assert.False(t, p.Owns(n), "an object at the original's address with the copy's Header")
			assert.Panics(t, func() { p.Put(n) })
			break
		}
		keep = append(keep, n)
	}
	assert.False(t, reused, "a new object was made at the address of an original a copy still names")
	runtime.KeepAlive(cp)
	runtime.KeepAlive(keep)
}
