package dispatch

import (
	"slices"
	"sync"
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
// unless abort is closed first; false means aborted (v undelivered).
func deliver[T any](v T, handler func(T), ch chan T, abort <-chan struct{}) bool {
	if handler != nil {
		handler(v)
		return true
	}
	select {
	case ch <- v:
		return true
	case <-abort:
		return false
	}
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
