package dispatch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// allocSink keeps what the tests below allocate on the heap.
var allocSink any

// Review s40rvdisp: allocsPerRun counted from the memory profile alone,
// and the profile never sees an allocation the tiny allocator fits into
// the 16-byte block it is filling (runtime/malloc.go, mallocgcTiny: it
// returns before profilealloc; only MemStats.Mallocs counts it). A product
// allocation of a small pointer-free object per publish — an 8-byte
// sequence boxed into an interface, a short string — was counted about
// once in two publishes, 0.5 rounded down to 0: injected into fanOut, it
// left TestS32SlabCountsWithBookLevels green, where testing.AllocsPerRun
// fails it. Every allocation counts, on the caller's goroutine and on
// another's, the tiny ones too; and the count's own reading adds none (a
// run of nothing counts 0).
func TestS40rvdispAllocsPerRunCountsEveryAllocation(t *testing.T) {
	var seq uint64 = 1 << 20 // past the runtime's preallocated small values
	tiny := func() {
		seq++
		allocSink = any(seq) // 8 pointer-free bytes: the tiny allocator's
	}
	require.Equal(t, 1.0, allocsPerRun(t, 100, tiny), "a tiny allocation per run")
	twice := func() { tiny(); tiny() }
	require.Equal(t, 2.0, allocsPerRun(t, 100, twice), "two tiny allocations per run")

	// On another goroutine, woken per run: its allocations count too.
	req, ack := make(chan struct{}), make(chan struct{})
	go func() {
		for range req {
			allocSink = &[8]*int{} // 64 bytes with pointers: not tiny
			ack <- struct{}{}
		}
		close(ack)
	}()
	other := func() {
		req <- struct{}{}
		<-ack
	}
	require.Equal(t, 1.0, allocsPerRun(t, 100, other), "an allocation per run on another goroutine")
	close(req)
	<-ack

	require.Zero(t, allocsPerRun(t, 10, func() {}), "the count's own reading was counted")
}
