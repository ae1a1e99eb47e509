package main

import (
	"context"
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// A stray argument is refused before anything runs (the context is
// already cancelled: an example that ran anyway would fail otherwise), and
// -h is flag.ErrHelp, which cli.Main treats as no failure.
func TestS24Arguments(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := run(ctx, []string{"extra"}, io.Discard)
	require.ErrorContains(t, err, `unexpected argument "extra"`)
	require.ErrorIs(t, run(ctx, []string{"-h"}, io.Discard), flag.ErrHelp)
}
