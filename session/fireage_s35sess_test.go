package session_test

import (
	"context"
	"testing"
	"time"
)

// ageUntil fires MaxAge's timers until ch delivers, and returns what it
// delivered: wsclient arms a connection's MaxAge when it begins serving
// it, after the Connected event, so WaitConnected may return before the
// timer is armed and a single fireAge miss it (fbb25f7's rotateUntil).
// For a rotation whose switch the test holds until ch delivers (the next
// connection's MaxAge is armed at the switch), firing again starts no
// second rotation of the orders connection.
func ageUntil[T any](t *testing.T, ctx context.Context, clk *manualClock, ch <-chan T, what string) T {
	t.Helper()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		clk.fireAge()
		select {
		case v := <-ch:
			return v
		case <-ctx.Done():
			t.Fatal(what + " never came")
		case <-tick.C:
		}
	}
}
