//go:build linux

package normalize

import "syscall"

// threadCPU returns the CPU time the calling OS thread has used, in ns:
// unlike wall time, it does not count the time the thread waited for a
// core, so ratios measured on a loaded machine hold.
func threadCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
