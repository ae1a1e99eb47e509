package pool

import "time"

// SetDefaultShutdownWait shortens the wait of a Shutdown whose context has
// no deadline, so that a test of that path need not wait 5 s; it returns
// the function that restores it.
func SetDefaultShutdownWait(d time.Duration) (restore func()) {
	old := defaultWait.Swap(int64(d))
	return func() { defaultWait.Store(old) }
}

// StackRecords is how many objects' call sites p's stack book holds (0
// without CaptureStacks).
func StackRecords[T Object](p *Pool[T]) int {
	b := p.core.book
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}
