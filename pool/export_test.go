package pool

import "time"

// SetDefaultShutdownWait shortens the wait of a Shutdown whose context has
// no deadline, so that a test of that path need not wait 5 s; it returns
// the function that restores it.
func SetDefaultShutdownWait(d time.Duration) (restore func()) {
	old := defaultWait.Swap(int64(d))
	return func() { defaultWait.Store(old) }
}
