package recorder_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/recorder"
)

// TestS29rvSystemClock: the shared real clock (the default of a replay
// and of venuesim) is comparable, and Sleep of no time returns at once:
// nil while ctx is live, ctx.Err() once it ended (before, a timer of 0
// raced the ended ctx and either could win).
func TestS29rvSystemClock(t *testing.T) {
	assert.True(t, recorder.SystemClock() == recorder.SystemClock(), "comparable: a caller may test for it")
	assert.NoError(t, recorder.SystemClock().Sleep(t.Context(), 0))
	assert.NoError(t, recorder.SystemClock().Sleep(t.Context(), -1))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for range 100 {
		assert.ErrorIs(t, recorder.SystemClock().Sleep(ctx, 0), context.Canceled)
	}
}
