// Package realclock is the wall clock behind the module's injectable
// clocks: the one implementation of Now and Sleep that
// wsclient.SystemClock (which adds its timers) and recorder.SystemClock
// share.
package realclock

import (
	"context"
	"time"
)

// Clock is the wall clock. The zero value is ready; values are
// comparable and all equal. Safe for concurrent use.
type Clock struct{}

// Now is time.Now.
func (Clock) Now() time.Time { return time.Now() }

// Sleep waits d on a timer it stops when it returns. It returns at once
// for d <= 0 (ctx.Err(): nil while ctx is live), and ctx.Err() when ctx
// ends first.
func (Clock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
