package exit

import (
	"context"
	"errors"
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

// A timeout is a failure even when Ctrl-C follows it: a context
// cancelled with a timeout as its cause (wsclient's withTimeout) reports
// context.Canceled from Err, so code that wraps the cause and Err both
// makes an error matching the two; "only context.Canceled" must not take
// one that also says context.DeadlineExceeded for the interrupt. (net/http
// reports the cause alone: the real dial timeout matches only
// DeadlineExceeded, pipeline's TestS25rvDialTimeoutThenInterruptIsNeverConnected.)
func TestS25rvStatusTimeoutIsNoInterrupt(t *testing.T) {
	interrupted, cancel := context.WithCancel(context.Background())
	cancel()
	dialTimeout := fmt.Errorf("%w: %w",
		fmt.Errorf("wsclient: dial timed out after 10s: %w", context.DeadlineExceeded),
		fmt.Errorf("failed to WebSocket dial: Get \"wss://x\": %w", context.Canceled))
	never := fmt.Errorf("%w to %s: %w", errors.New("never connected"), "wss://x", dialTimeout)
	assert.Equal(t, 1, Status(interrupted, never), "the venue out of reach, then Ctrl-C")
	assert.Equal(t, 1, Status(interrupted, errors.Join(context.Canceled, never)))
	assert.Equal(t, 0, Status(interrupted, fmt.Errorf("replay: %w", context.Canceled)))
}
