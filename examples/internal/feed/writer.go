package feed

import (
	"io"
	"sync"
)

// lockedWriter serialises writes from the callbacks' goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// SyncWriter returns w made safe for writes from several goroutines: the
// examples print from subscriber handlers and connection callbacks at once.
func SyncWriter(w io.Writer) io.Writer { return &lockedWriter{w: w} }
