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
// queue that grows, a marker, a slab more) still fails the test. It counts
// with the memory profiler at one record per allocation (restored after)
// and a garbage collection on each side, so it is slower than
// AllocsPerRun; a test that starts no goroutine needs only AllocsPerRun.
func allocsPerRun(t *testing.T, runs int, f func()) float64 {
	t.Helper()
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	runtime.MemProfileRate = 1
	f() // the warm-up call, as AllocsPerRun's
	before := profiledAllocs()
	for range runs {
		f()
	}
	return float64((profiledAllocs() - before) / uint64(runs))
}

// AllocsPerRun is allocsPerRun for the package's external tests.
var AllocsPerRun = allocsPerRun

// profiledAllocs returns how many allocations the memory profile holds
// after a garbage collection, which publishes every allocation made before
// it (runtime.MemProfile: the profile is as of the last collection). Left
// out: the runtime's sudogs and what profiledAllocs itself allocates (an
// earlier call's reading would be counted by the next).
func profiledAllocs() uint64 {
	runtime.GC()
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
	return total
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
