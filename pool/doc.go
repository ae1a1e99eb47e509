// Package pool provides a bounded, typed object pool with checked ownership.
//
// A [Pool] hands out at most its capacity of objects at once. [Pool.Get]
// waits (bounded by its context) while the pool is exhausted; [Pool.TryGet]
// never waits. [Pool.Put] resets the object itself and returns it, and panics
// on misuse: a second Put of the same checkout, a Put of an object that never
// came from this pool (a heap clone, an object of another pool), or nil.
//
// Pooled types embed a [Header], which is how the pool knows who owns an
// object. References to a pooled object MUST NOT be kept after it was Put:
// the next Get hands the same memory to somebody else. With
// [Options.CaptureStacks] the pool records where each object was taken and
// returned, names those places in its panics and leak reports, and keeps
// returned objects in quarantine for a while so that a Put by a stale owner
// (after the object was handed out again) is caught too.
//
// [Pool.Shutdown] refuses new Gets and waits for every object to come back;
// when they do not, its error says how many are missing and where they were
// taken. A [Manager] groups several pools for one Shutdown and one Stats call.
//
// All methods of Pool and Manager are safe for concurrent use. The zero value
// of Pool is not usable; call [New].
package pool
