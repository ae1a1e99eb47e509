// Package allocs counts the allocations a piece of code makes, for the
// tests' allocation assertions: testing.AllocsPerRun less the runtime's
// own bookkeeping that a loaded machine or a garbage collection in the
// window adds (never a product allocation).
package allocs

import (
	"runtime"
	"runtime/metrics"
	"strings"
)

// PerRun is testing.AllocsPerRun (one warm-up call of f, then runs calls,
// the allocations of every goroutine counted, the average rounded down)
// less two kinds the runtime makes for itself:
//
//   - its refills of its cache of sudogs, the records a goroutine parks on
//     a channel or lock with. Every garbage collection empties the central
//     cache (runtime/mgc.go, clearpools); on a busy machine goroutines move
//     between Ps more, so after a collection N parked goroutines may each
//     need a fresh sudog: what made dispatch's TestS32SlabCountsWithBookLevels
//     count 2 allocations per publish instead of 1 (official CI; here about 1
//     run in 50 with two copies of the package's test binary beside it).
//   - a sync.Pool's per-P array, made again on its first Get after each
//     collection (poolCleanup drops it; sync.(*Pool).pinSlow makes it): a
//     dependency's pool (goccy/go-json's encoder context) counted 1 per run
//     in venuesim's TestS35simArraysFormatWithoutAllocating when a
//     collection fell in its 20 runs (CI run 74 here; 1 in ~100 with the
//     package's binary beside it). One per pool per collection, not per call.
//
// Everything else counts, on every goroutine: an allocation the code makes
// on the caller's goroutine or another's still fails the test. It counts
// with the memory profiler at one record per allocation (restored after)
// and a garbage collection on each side, so it is slower than
// AllocsPerRun. The profile never sees an allocation the tiny allocator
// fits into the 16-byte block it is filling (runtime/malloc.go,
// mallocgcTiny returns before profilealloc): those are counted from
// runtime/metrics' /gc/heap/tiny/allocs:objects, which each collection
// brings up to date as it does the profile (every P's cache flushed).
//
// A count above 0 is taken again, up to attempts times in all, and the
// least is returned: an allocation f makes per call shows in every
// window, while another goroutine's that falls in one window (venuesim's
// generator and connections beside TestS34rvsimTickCostsWhatIsSubscribed:
// 1 per run, CI-like load, about 1 run in 100) does not fall in each.
func PerRun(runs int, f func()) float64 {
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	runtime.MemProfileRate = 1
	least := window(runs, f)
	for range attempts - 1 {
		if least == 0 {
			break
		}
		least = min(least, window(runs, f))
	}
	return float64(least)
}

// attempts is how many windows PerRun counts at most.
const attempts = 3

// window counts the allocations per call of runs calls of f, after a
// warm-up call, rounded down.
func window(runs int, f func()) uint64 {
	f() // the warm-up call, as AllocsPerRun's
	tiny := []metrics.Sample{{Name: "/gc/heap/tiny/allocs:objects"}}
	before := profiled(tiny)
	for range runs {
		f()
	}
	return (profiled(tiny) - before) / uint64(runs)
}

// profiled returns how many allocations the memory profile holds after a
// garbage collection, which publishes every allocation made before it
// (runtime.MemProfile: the profile is as of the last collection), plus the
// tiny ones the profile does not see, read into tiny (one sample of
// /gc/heap/tiny/allocs:objects). Left out: the runtime's own (leftOut) and
// what profiled itself allocates (an earlier call's reading would be
// counted by the next).
func profiled(tiny []metrics.Sample) uint64 {
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
// its sudog cache, a sync.Pool's per-P array made again after a
// collection, or profiled's own.
func leftOut(stack []uintptr) bool {
	frames := runtime.CallersFrames(stack)
	runtimeOnly := true // the frames so far are all the runtime's
	for {
		fr, more := frames.Next()
		switch {
		case runtimeOnly && (fr.Function == "runtime.acquireSudog" || fr.Function == "sync.(*Pool).pinSlow"):
			return true
		case strings.HasSuffix(fr.Function, "/internal/allocs.profiled"):
			return true
		}
		runtimeOnly = runtimeOnly && strings.HasPrefix(fr.Function, "runtime.")
		if !more {
			return false
		}
	}
}
