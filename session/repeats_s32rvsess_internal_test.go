package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestS32rvsessLateExpireLeavesNoTimerAfterStop: a window's timer that
// fired just as a later begin moved the window (its callback waiting on
// mu while begin stopped it, which Stop cannot prevent then) must not
// lose the timer that begin armed. Before the fix expire set r.end to nil
// first, so begin's timer was forgotten, never stopped by Session.Close
// (repeats.stop), and fired after it.
func TestS32rvsessLateExpireLeavesNoTimerAfterStop(t *testing.T) {
	clk := newEndClock()
	r := &repeats{clk: clk}
	r.begin(1, 2) // timer 1
	r.begin(2, 3) // timer 1 stopped (too late: its callback is under way), timer 2
	r.expire()    // timer 1's callback: the window not over, armed again
	require.Len(t, clk.armed(), 1, "one timer for one window")
	r.stop()
	assert.Empty(t, clk.armed(), "no timer of the session's outlives Close")
}
