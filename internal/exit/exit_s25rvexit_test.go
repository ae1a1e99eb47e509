package exit

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A context.Canceled that no Ctrl-C caused (a context the command or a
// library ended for its own reason) is a failure: status 1. Releasing the
// signal handling ends the context too, so the status must be decided
// before that, or every such error would pass as the user's interrupt.
func TestS25rvRunCanceledWithoutInterrupt(t *testing.T) {
	code, err := Run(func(context.Context) error {
		return fmt.Errorf("dial: %w", context.Canceled)
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, code)
}

// A real Ctrl-C (SIGINT to this process) whose only error is the
// interrupt is the clean shutdown: status 0.
func TestS25rvRunInterrupted(t *testing.T) {
	code, err := Run(func(ctx context.Context) error {
		require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
		<-ctx.Done()
		return fmt.Errorf("replay: %w", ctx.Err())
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, code)
}

func TestS25rvRunNoError(t *testing.T) {
	code, err := Run(func(context.Context) error { return nil })
	require.NoError(t, err)
	assert.Equal(t, 0, code)
}
