//go:build unix

package dispatch

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used, all threads: the
// publisher, the subscribers' goroutines and the garbage collector.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
