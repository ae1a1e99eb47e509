// Package clitest checks what every example's command line must do; it is
// imported by the examples' tests only.
package clitest

import (
	"context"
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
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
