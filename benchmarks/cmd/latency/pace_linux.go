//go:build linux

package main

import (
	"runtime"
	"syscall"
	"time"
)

const prSetTimerSlack = 29 // prctl(2)

// lockThread gives the pacing goroutine an OS thread of its own with a
// timer slack of 1 ns, so that its nanosleeps end when asked (the default
// slack is 50 µs).
func lockThread() {
	runtime.LockOSThread()
	_, _, _ = syscall.Syscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
}

// waitUntil returns at t or just after it. It never uses time.Sleep, which
// the Go runtime rounds up to its timer granularity (about 1 ms here):
// while more than spin is left it sleeps in the kernel (nanosleep(2) on the
// locked thread, woken by a high-resolution timer); the last spin it
// checks the monotonic clock and yields the CPU (sched_yield(2)) between
// checks, so other processes — the measured one — run meanwhile.
func waitUntil(t time.Time, spin time.Duration) {
	for {
		d := time.Until(t)
		if d <= 0 {
			return
		}
		if d > spin {
			ts := syscall.NsecToTimespec(int64(d - spin))
			_ = syscall.Nanosleep(&ts, nil) // EINTR (Go's preemption signal) just loops
			continue
		}
		_, _, _ = syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
	}
}
