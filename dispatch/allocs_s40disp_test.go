package dispatch

import (
	"runtime"
	"strings"
	"testing"
)

// allocsPerRun is testing.AllocsPerRun (one warm-up call of f, then runs
// calls, the allocations of every goroutine counted, the average rounded
// down) less one kind: the runtime's refills of its cache of sudogs, the
// records a goroutine parks on a channel or lock with.
//
// Those refills are what made TestS32SlabCountsWithBookLevels count 2
// allocations per publish instead of 1 on a loaded machine (the official
// CI, and here with two copies of the package's test binary beside it:
// about 1 run in 50; a memory profile of the runs put all the excess at
// the subscriber goroutines' `<-s.wake`). Every garbage collection empties
// the runtime's central sudog cache (runtime/mgc.go, clearpools); each P
// keeps a small cache of its own, and a goroutine that parks on one P and
// is woken and run on another moves a sudog between them. On a busy
// machine the publisher's and the subscribers' goroutines move between Ps
// more, so after a collection N parked subscribers may each need a fresh
// sudog: up to N allocations per collection, none of them the
// dispatcher's, and no fewer with any other way to park (sync.Cond and
// sync.Mutex take sudogs too).
//
// Everything else counts, on every goroutine: an allocation the
// dispatcher makes on the publisher's or a subscriber's goroutine (a
// queue that grows, a marker, a slab more) still fails the test. The
// count is runtime.MemStats.Mallocs over the runs, as AllocsPerRun's —
// exact, the tiny allocator's small pointer-free objects included — less
// the sudog refills the memory profile (one record per allocation while
// it runs, restored after) holds between a garbage collection after the
// first reading of Mallocs and one before the second: the profile alone
// never sees an allocation the tiny allocator fits into the block it is
// filling (runtime/malloc.go, mallocgcTiny returns before profilealloc),
// so a product allocation of 8 bytes per publish counted 0.5, rounded
// down to 0 (TestS40rvdispAllocsPerRunCountsEveryAllocation); and only
// sudogs made inside the Mallocs window are taken off it, never one made
// after (subscribers parking once the runs are over), which would hide a
// product allocation. Reading the profile allocates nothing in the
// window (its buffers are made before it, the records read after it), so
// a run of nothing counts 0. Two garbage
// collections and a profile read make it slower than AllocsPerRun. A
// test that starts no goroutine counts with it too when its few runs leave
// no margin (the route tests: 2 or 3 runs, where two sudogs of any other
// goroutine of the binary parking meanwhile made 1 per run).
func allocsPerRun(t *testing.T, runs int, f func()) float64 {
	t.Helper()
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	runtime.MemProfileRate = 1
	f() // the warm-up call, as AllocsPerRun's
	n, _ := runtime.MemProfile(nil, true)
	// Room for the records the runs add (a record per allocating stack):
	// the buffers are made before the window; a profile that outgrew one
	// is read again into a larger one, an allocation over runs.
	before := make([]runtime.MemProfileRecord, n+profileRoom)
	after := make([]runtime.MemProfileRecord, n+profileRoom)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	before = profileAfterGC(before)
	for range runs {
		f()
	}
	after = profileAfterGC(after)
	runtime.ReadMemStats(&ms)
	// Read out of the window: runtime.CallersFrames allocates.
	sudogs := sudogAllocs(after) - sudogAllocs(before)
	return float64((ms.Mallocs - mallocs - sudogs) / uint64(runs))
}

// profileRoom is how many records more than the profile holds
// allocsPerRun's buffers have room for.
const profileRoom = 4096

// AllocsPerRun is allocsPerRun for the package's external tests.
var AllocsPerRun = allocsPerRun

// profileAfterGC returns the memory profile after a garbage collection,
// which publishes every allocation made before it (runtime.MemProfile: the
// profile is as of the last collection), read into recs (a longer slice
// made if it is too short: nothing allocated otherwise).
func profileAfterGC(recs []runtime.MemProfileRecord) []runtime.MemProfileRecord {
	runtime.GC()
	for {
		n, ok := runtime.MemProfile(recs, true)
		if ok {
			return recs[:n]
		}
		recs = make([]runtime.MemProfileRecord, n+profileRoom)
	}
}

// sudogAllocs returns how many of the runtime's refills of its sudog cache
// profile recs holds.
func sudogAllocs(recs []runtime.MemProfileRecord) uint64 {
	var total uint64
	for i := range recs {
		if isSudog(recs[i].Stack()) {
			total += uint64(recs[i].AllocObjects)
		}
	}
	return total
}

// isSudog reports whether an allocation's stack is the runtime's refill of
// its sudog cache: runtime.acquireSudog under runtime frames only.
func isSudog(stack []uintptr) bool {
	frames := runtime.CallersFrames(stack)
	for {
		fr, more := frames.Next()
		switch {
		case fr.Function == "runtime.acquireSudog":
			return true
		case !strings.HasPrefix(fr.Function, "runtime.") || !more:
			return false
		}
	}
}
