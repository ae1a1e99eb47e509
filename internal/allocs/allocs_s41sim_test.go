package allocs

import (
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

var sink any

// A sync.Pool's per-P array is made again on its first Get after every
// garbage collection (what a collection inside venuesim's 20 runs of
// TestS35simArraysFormatWithoutAllocating counted as 1 per run): PerRun
// leaves it out, and still counts an allocation made beside it.
func TestS41simPoolArrayAfterACollectionLeftOut(t *testing.T) {
	pool := sync.Pool{New: func() any { return new([64]byte) }}
	pool.Put(pool.Get())
	getPut := func() {
		runtime.GC() // the pool's array dropped, as any collection in a window does
		pool.Put(pool.Get())
	}
	// What this counts to without the rule: the array made again per run
	// (and the pooled object itself, dropped to the victim cache and back).
	assert.GreaterOrEqual(t, testing.AllocsPerRun(20, getPut), 1.0, "the case itself: AllocsPerRun counts the pool's array")
	assert.Zero(t, PerRun(20, getPut), "a pool's array made again after a collection")
	withOne := func() {
		getPut()
		sink = &[8]*int{} // 64 bytes with pointers: not tiny
	}
	assert.Equal(t, 1.0, PerRun(20, withOne), "an allocation beside it")
}

// Every allocation counts, the tiny allocator's too, on another goroutine
// too, and the count's own reading adds none.
func TestS41simEveryAllocationCounted(t *testing.T) {
	var seq uint64 = 1 << 20 // past the runtime's preallocated small values
	tiny := func() {
		seq++
		sink = any(seq) // 8 pointer-free bytes: the tiny allocator's
	}
	assert.Equal(t, 1.0, PerRun(100, tiny), "a tiny allocation per run")
	req, ack := make(chan struct{}), make(chan struct{})
	go func() {
		for range req {
			sink = &[8]*int{}
			ack <- struct{}{}
		}
		close(ack)
	}()
	assert.Equal(t, 1.0, PerRun(100, func() { req <- struct{}{}; <-ack }), "an allocation per run on another goroutine")
	close(req)
	<-ack
	assert.Zero(t, PerRun(10, func() {}), "the count's own reading was counted")
}

// An allocation that falls in one window only (another goroutine's, or a
// buffer that grows once) is not counted per call: the count is taken
// again and the least kept. One made on every call is.
func TestS41simOneWindowsAllocationsNotPerCall(t *testing.T) {
	calls := 0
	once := func() {
		calls++
		if calls <= 21 { // the first window: its warm-up call and 20 runs
			sink = &[8]*int{}
		}
	}
	assert.Zero(t, PerRun(20, once), "allocations of the first window only")
	assert.Greater(t, calls, 21, "the count was taken again")
	every := func() { sink = &[8]*int{} }
	assert.Equal(t, 1.0, PerRun(20, every), "an allocation per call")
}
