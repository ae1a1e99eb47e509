// Package clitest checks what every example's command line must do; it is
// imported by the examples' tests only.
package clitest

import (
	"context"
	"flag"
	"io"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/internal/exit"
)

// Arguments checks that run refuses a stray argument before anything runs
// (the context is already cancelled: an example that ran anyway would
// fail otherwise) and that -h is flag.ErrHelp, which cli.Main treats as no
// failure.
func Arguments(t *testing.T, run func(ctx context.Context, args []string, out io.Writer) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorContains(t, run(ctx, []string{"extra"}, io.Discard), `unexpected argument "extra"`)
	require.ErrorIs(t, run(ctx, []string{"-h"}, io.Discard), flag.ErrHelp)
}

// cancelAt is an output that cancels a context at its n-th write.
type cancelAt struct {
	mu     sync.Mutex
	writes int
	at     int
	cancel context.CancelFunc
}

func (c *cancelAt) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	if c.writes == c.at {
		c.cancel()
	}
	return len(p), nil
}

// Interrupted checks that Ctrl-C at any point of a run is a clean exit
// (status 0, see exit.Status): run goes once through, counting what it
// prints, then again with its context ended at the first, a quarter, half,
// three quarters and the last of those writes, each run's error holding
// nothing but the interrupt.
func Interrupted(t *testing.T, run func(ctx context.Context, args []string, out io.Writer) error, args ...string) {
	t.Helper()
	full := &cancelAt{cancel: func() {}}
	require.NoError(t, run(context.Background(), args, full))
	n := full.writes
	for _, at := range []int{1, n / 4, n / 2, 3 * n / 4, n} {
		if at < 1 {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		err := run(ctx, args, &cancelAt{at: at, cancel: cancel})
		code := exit.Status(ctx, err) // before cancel: ctx must be ended by the interrupt itself
		cancel()
		require.Equal(t, 0, code, "interrupted at write %d of %d: %v", at, n, err)
	}
}

// BadValues checks that run refuses each flag value out of range before
// anything runs (the context is already cancelled), with an error that
// names the flag: a -rate of 0 ran the simulated venue at its default
// while the example printed "0 msg/s", a -speed of 0 replayed at 1, a
// -wait of 0 failed later as a timeout of something else. Each case is
// the flag and its value.
func BadValues(t *testing.T, run func(ctx context.Context, args []string, out io.Writer) error, cases ...[2]string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range cases {
		err := run(ctx, []string{c[0], c[1]}, io.Discard)
		require.Error(t, err, "%s %s", c[0], c[1])
		require.Contains(t, err.Error(), c[0]+" ", "%s %s: the error names the flag", c[0], c[1])
		require.Contains(t, err.Error(), "must", "%s %s", c[0], c[1])
	}
}
