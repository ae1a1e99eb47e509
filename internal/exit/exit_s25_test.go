package exit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Ctrl-C is a clean shutdown the user asked for: status 0 when the only
// errors are the interrupt's context.Canceled, however wrapped or joined;
// any other error met on the way out still fails the run, and a
// context.Canceled with no interrupt is a failure too.
func TestS25Status(t *testing.T) {
	live := context.Background()
	interrupted, cancel := context.WithCancel(context.Background())
	cancel()
	leak := errors.New("leak check: 3 outstanding")
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{"nil", live, nil, 0},
		{"help", live, flag.ErrHelp, 0},
		{"help wrapped", live, fmt.Errorf("sim: %w", flag.ErrHelp), 0},
		{"failure", live, leak, 1},
		{"canceled, no interrupt", live, context.Canceled, 1},
		{"interrupt", interrupted, context.Canceled, 0},
		{"interrupt wrapped", interrupted, fmt.Errorf("replay: %w", context.Canceled), 0},
		{"interrupt joined", interrupted, errors.Join(context.Canceled, fmt.Errorf("place: %w", context.Canceled)), 0},
		{"interrupt and a failed close", interrupted, errors.Join(context.Canceled, leak), 1},
		{"interrupt as a request's cause", interrupted, errors.Join(fmt.Errorf("%w: %w", errors.New("session: request not sent"), context.Canceled)), 0},
		{"interrupt, then a failed close", interrupted, errors.Join(fmt.Errorf("%w: %w", errors.New("session: request not sent"), context.Canceled), leak), 1},
		{"interrupt, other error", interrupted, leak, 1},
		{"deadline", interrupted, context.DeadlineExceeded, 1},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, Status(tc.ctx, tc.err)) })
	}
}
