package feed

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
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

// Main runs an example: run gets a context that ends on Ctrl-C, the
// command-line arguments and standard output; an error is printed and the
// process exits with status 1.
func Main(name string, run func(ctx context.Context, args []string, out io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
