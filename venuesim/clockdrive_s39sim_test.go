package venuesim_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// s39Drive moves clk step at a time, the generator asleep between steps
// (s36Step), and hands each message msgs brings to handle, in order,
// until done reports true. The test fails when the connection ends or
// ctx, a failure guard only, ends first.
func s39Drive(ctx context.Context, t *testing.T, clk *s29Clock, step time.Duration, msgs <-chan s34simMsg, handle func([]byte), done func() bool) {
	t.Helper()
	for !done() {
		select {
		case m, ok := <-msgs:
			require.True(t, ok, "the connection ended")
			handle(m.Raw)
			continue
		default:
		}
		require.NoError(t, ctx.Err(), "not done within the guard")
		s36Step(t, clk, 1, step)
	}
}
