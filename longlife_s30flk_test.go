package meltica_test

import (
	"bytes"
	"log/slog"
	"sync"
)

// s30flkTail keeps the last lines a logger wrote, for a long-life test's
// failure message: what the session said before it stalled (a failed
// snapshot fetch, a backoff, a dial) without a line per message kept.
type s30flkTail struct {
	mu    sync.Mutex
	lines [][]byte
	next  int
}

func newS30flkTail(n int) *s30flkTail { return &s30flkTail{lines: make([][]byte, n)} }

func (w *s30flkTail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines[w.next] = append(w.lines[w.next][:0], p...)
	w.next = (w.next + 1) % len(w.lines)
	return len(p), nil
}

// String returns the kept lines, oldest first.
func (w *s30flkTail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b bytes.Buffer
	for i := range len(w.lines) {
		b.Write(w.lines[(w.next+i)%len(w.lines)])
	}
	return b.String()
}

func (w *s30flkTail) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
