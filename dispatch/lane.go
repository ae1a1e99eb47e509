package dispatch

import (
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// The helpers both kinds of subscription share: the canonical one
// (Subscription) and the MergedEvent lane (MergedSubscription).

// signal wakes a subscription's goroutine without waiting: wake has room
// for one token, and one is enough.
func signal(wake chan struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}

// deliver hands v to handler, or sends it on ch when there is no handler,
// unless abort is closed first; false means aborted (v undelivered). A
// handler's panic is recovered and given to onPanic with v and the
// handler's stack; v counts as delivered.
func deliver[T any](v T, handler func(T), ch chan T, abort <-chan struct{}, onPanic func(T, any, []byte)) bool {
	if handler != nil {
		callHandler(v, handler, onPanic)
		return true
	}
	select {
	case ch <- v:
		return true
	case <-abort:
		return false
	}
}

// callHandler calls handler(v), recovering a panic: one subscriber's bug
// must not kill the host process, the publisher or the other subscribers
// (an unrecovered panic on the subscription's goroutine would end them
// all). The stack is taken inside the deferred call, where it still shows
// the handler's frames.
func callHandler[T any](v T, handler func(T), onPanic func(T, any, []byte)) {
	defer func() {
		if r := recover(); r != nil {
			onPanic(v, r, debug.Stack())
		}
	}()
	handler(v)
}

// lagClock reads the wall clock for a subscription's lag, in Unix
// nanoseconds like IngestTS, with one monotonic clock read per call instead
// of time.Now's two (wall and monotonic): the wall clock is read once a
// second and the monotonic time elapsed since is added to it. A step of the
// wall clock shows in the lags of at most the next second. The zero value
// is ready for use; it is not safe for concurrent use.
type lagClock struct {
	base time.Time // wall and monotonic readings of the last rebase
	wall int64     // base in Unix nanoseconds
}

// lagRebase is how often lagClock reads the wall clock again.
const lagRebase = time.Second

func (c *lagClock) now() int64 {
	if c.wall != 0 {
		if d := time.Since(c.base); d < lagRebase {
			return c.wall + int64(d)
		}
	}
	c.base = time.Now()
	c.wall = c.base.UnixNano()
	return c.wall
}

// startDrain moves an open subscription to draining and wakes it.
func startDrain(mu *sync.Mutex, state *subState, wake chan struct{}) {
	mu.Lock()
	if *state == stateOpen {
		*state = stateDraining
	}
	mu.Unlock()
	signal(wake)
}

// without returns list without s (a new slice: readers may hold the old
// one), and whether s was there.
func without[T comparable](list []T, s T) ([]T, bool) {
	i := slices.Index(list, s)
	if i < 0 {
		return list, false
	}
	return slices.Delete(slices.Clone(list), i, i+1), true
}

// endAfterClose ends s, called under Dispatcher.mu once s is no longer
// listed: after Close, a subscription Close drains or has handed off is
// still delivering and is stopped here, once (under the lock, so that a
// second Unsubscribe finds it stopped); otherwise ErrUnknownSubscription.
func endAfterClose[S interface {
	comparable
	stopped() bool
	stop() uint64
}](closed bool, running map[S]struct{}, s S) error {
	if _, ok := running[s]; !ok || !closed || s.stopped() {
		return ErrUnknownSubscription
	}
	s.stop()
	return nil
}
