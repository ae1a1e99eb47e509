package dispatch

import (
	"runtime"
	"runtime/metrics"
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
// queue that grows, a marker, a slab more) still fails the test. It counts
// with the memory profiler at one record per allocation (restored after)
// and a garbage collection on each side, so it is slower than
// AllocsPerRun. The profile never sees an allocation the tiny allocator
// fits into the 16-byte block it is filling (runtime/malloc.go,
// mallocgcTiny returns before profilealloc): those are counted from
// runtime/metrics' /gc/heap/tiny/allocs:objects, which each collection
// brings up to date as it does the profile (every P's cache flushed) —
// counted from the profile alone, 8 bytes per publish injected into
// fanOut counted 0.5, rounded down to 0
// (TestS40rvdispAllocsPerRunCountsEveryAllocation). A test that starts
// no goroutine counts with it too when its few runs leave no margin (the
// route tests: 2 or 3 runs, where two sudogs of any other goroutine of
// the binary parking meanwhile made 1 per run).
func allocsPerRun(t *testing.T, runs int, f func()) float64 {
	t.Helper()
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	runtime.MemProfileRate = 1
	f() // the warm-up call, as AllocsPerRun's
	tiny := []metrics.Sample{{Name: "/gc/heap/tiny/allocs:objects"}}
	before := profiledAllocs(tiny)
	for range runs {
		f()
	}
	return float64((profiledAllocs(tiny) - before) / uint64(runs))
}

// AllocsPerRun is allocsPerRun for the package's external tests.
var AllocsPerRun = allocsPerRun

// profiledAllocs returns how many allocations the memory profile holds
// after a garbage collection, which publishes every allocation made before
// it (runtime.MemProfile: the profile is as of the last collection), plus
// the tiny ones the profile does not see, read into tiny (one sample of
// /gc/heap/tiny/allocs:objects). Left out: the runtime's sudogs and what
// profiledAllocs itself allocates (an earlier call's reading would be
// counted by the next).
func profiledAllocs(tiny []metrics.Sample) uint64 {
	runtime.GC()
	metrics.Read(tiny)
	var recs []runtime.MemProfileRecord
	for {
		n, ok := runtime.MemProfile(recs, true)
		if ok {
			recs = recs[:n]
			break
		}
		recs = make([]runtime.MemProfileRecord, n+64)
	}
	var total uint64
	for i := range recs {
		if !leftOut(recs[i].Stack()) {
			total += uint64(recs[i].AllocObjects)
		}
	}
	return total + tiny[0].Value.Uint64()
}

// leftOut reports whether an allocation's stack is the runtime's refill of
// its sudog cache or profiledAllocs's own.
func leftOut(stack []uintptr) bool {
	frames := runtime.CallersFrames(stack)
	runtimeOnly := true // the frames so far are all the runtime's
	for {
		fr, more := frames.Next()
		switch {
		case runtimeOnly && fr.Function == "runtime.acquireSudog":
			return true
		case strings.HasSuffix(fr.Function, "/dispatch.profiledAllocs"):
			return true
		}
		runtimeOnly = runtimeOnly && strings.HasPrefix(fr.Function, "runtime.")
		if !more {
			return false
		}
	}
}
