// Package pool provides a bounded, typed object pool with checked ownership.
//
// A [Pool] hands out at most its capacity of objects at once. [Pool.Get]
// waits (bounded by its context) while the pool is exhausted; [Pool.TryGet]
// never waits. [Pool.Put] resets the object itself and returns it, and panics
// on misuse.
//
// Pooled types embed a [Header], which is how the pool knows who owns an
// object. References to a pooled object MUST NOT be kept after it was Put:
// the next Get may hand the same memory to somebody else. Reset MUST NOT
// write the Header (see [Header]).
//
// # What each mode guarantees
//
// In both modes, Put panics with a message naming the pool and the type on:
//
//   - a nil object;
//   - an object that never came from a pool: a heap clone (Clone gives it a
//     zero Header) or a value made with new;
//   - an object of another pool (the message names that pool);
//   - a copy made by value of a checked-out object (`cp := *obj`), which
//     carries the original's Header: the Header knows its own address;
//   - two Puts of the same checkout racing each other: exactly one returns
//     the object, the other panics, and the race detector sees no data race
//     inside the pool (Put claims the object with an atomic compare-and-swap
//     before Reset; Reset leaves the Header alone).
//
// Reset is the pooled type's own code: when it panics, or changes the
// Header (`*x = T{}` zeroes it), Put drops the object (it is never handed
// out again), frees its slot and counts it returned, then panics — the bug
// is not hidden, and it costs the pool neither capacity nor a false leak
// at Shutdown. A Reset that writes the Header's own value back
// (`*x = T{Header: x.Header}`) changes nothing a pool can see and is not
// caught: the object is reused as any other, and only a Put racing that
// Reset (a data race the race detector reports) would suffer from it.
//
// Stacks off (the default, for production): a returned object is reused by
// the next Get (last in, first out), at no cost. A second Put is caught only
// while the object is still idle in the pool. Once it has been handed out
// again, a Put by its stale owner cannot be told from the new owner's: it is
// accepted (the new owner's object is reset under its feet) and the new
// owner's own Put then panics as the "second Put". Panics name the pool and
// the type, not the call sites.
//
// Stacks on ([Options.CaptureStacks], for tests and debugging): a returned
// object is never handed out again — every Get constructs a fresh object
// and the returned one is retired, left to the garbage collector once the
// last stale reference to it is gone — so every Put after the first of a
// checkout panics, however late it comes and whoever got objects in
// between. The panic shows where the object was taken and where it was
// first returned; a Put into the wrong pool shows where the object was
// taken from its own pool when that pool records stacks. The capacity
// still bounds the objects checked out at once (retired objects do not
// count); Stats.Created grows with every Get, and memory use is that of
// allocating every object, since none is reused.
//
// # Shutdown
//
// [Pool.Shutdown] refuses new Gets and waits for every object to come back;
// when they do not, its error says how many are missing and, with stacks
// on, where they were taken. A [Manager] groups several pools for one
// Shutdown and one Stats call.
//
// All methods of Pool and Manager are safe for concurrent use. The zero value
// of Pool is not usable; call [New].
package pool
