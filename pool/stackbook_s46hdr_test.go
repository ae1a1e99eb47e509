package pool_test

import (
	"context"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
)

// The Header is two words: the call sites of the debug mode are kept by
// the pool, not in every pooled object (and every clone of a pooled type);
// the state shares a word with the Header's address (session 47).
func TestS46hdrHeaderIsTwoWords(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 2*unsafe.Sizeof(uintptr(0)), unsafe.Sizeof(pool.Header{}))
}

// laterHeader embeds the Header after other fields, so the pool's records
// are keyed by a pointer into the middle of the object.
type laterHeader struct {
	N   int
	Buf [40]byte
	pool.Header
}

func (*laterHeader) Reset() {}

//go:noinline
func putLater(p *pool.Pool[*laterHeader], x *laterHeader) { p.Put(x) }

// With CaptureStacks the records of an object whose Header is not its
// first field still name where it was taken and first returned.
func TestS46hdrCaptureStacksHeaderInsideTheObject(t *testing.T) {
	t.Parallel()
	p := pool.New("later", 2, func() *laterHeader { return new(laterHeader) }, &pool.Options{CaptureStacks: true})
	x, err := p.Get(context.Background())
	require.NoError(t, err)
	putLater(p, x)
	msg := panicText(func() { p.Put(x) })
	assert.Contains(t, msg, "second Put")
	assert.Contains(t, msg, "pool_test.putLater", "first Put at")
	assert.Contains(t, msg, "TestS46hdrCaptureStacksHeaderInsideTheObject", "taken by Get at")
}

// The pool's records do not keep its objects alive: with CaptureStacks
// every returned object is retired, and once the garbage collector took
// them their records are gone too (a debug run of hours does not grow
// without bound).
func TestS46hdrCaptureStacksRecordsGoWithTheObjects(t *testing.T) {
	t.Parallel()
	p := newPool(t, 4, &pool.Options{CaptureStacks: true})
	const n = 200
	for range n {
		it, err := p.Get(context.Background())
		require.NoError(t, err)
		p.Put(it)
	}
	require.Positive(t, pool.StackRecords(p), "recorded")
	kept, err := p.Get(context.Background())
	require.NoError(t, err)
	// Cleanups run on a goroutine of the runtime's after a collection:
	// collect until they ran, for a bounded number of collections.
	for i := 0; i < 1000 && pool.StackRecords(p) > 1; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	assert.Equal(t, 1, pool.StackRecords(p), "only the object still out keeps its record")
	p.Put(kept)
}
