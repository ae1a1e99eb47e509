//go:build !linux

package main

import (
	"runtime"
	"time"
)

func lockThread() { runtime.LockOSThread() }

// waitUntil returns at t or just after it: time.Sleep while more than
// 2 ms is left (its granularity is about 1 ms), then a spin on the
// monotonic clock that yields to other goroutines.
func waitUntil(t time.Time, _ time.Duration) {
	for {
		d := time.Until(t)
		if d <= 0 {
			return
		}
		if d > 2*time.Millisecond {
			time.Sleep(d - 2*time.Millisecond)
			continue
		}
		runtime.Gosched()
	}
}
