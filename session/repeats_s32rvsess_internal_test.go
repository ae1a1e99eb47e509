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
	r.expire(1)   // timer 1's callback (s33sess: a replaced window's does nothing)
	require.Len(t, clk.armed(), 1, "one timer for one window")
	r.stopNow()
	assert.Empty(t, clk.armed(), "no timer of the session's outlives Close")
}

// TestS32rvsessWindowReportRingedForNextRotation: a report delivered
// during one rotation's window is among the latest reports a later
// rotation's snapshot repeats (Kraken executions, Coinbase user: the open
// orders' latest state on subscribing), like one delivered outside every
// window. Before the fix the window's reports went to its index only,
// forgotten at its end: the next rotation's copy was delivered twice.
func TestS32rvsessWindowReportRingedForNextRotation(t *testing.T) {
	clk := newEndClock()
	r := &repeats{clk: clk}
	t.Cleanup(r.stopNow)
	r.begin(1, 2)
	require.False(t, r.check(2, repeatReport(7)), "the new connection's first report, in the window")
	clk.now.Add(int64(2 * repeatsWindow)) // the window ends; the account stays quiet
	clk.fire()
	r.begin(2, 3)
	assert.True(t, r.check(3, repeatReport(7)), "the next connection's snapshot repeats it")
	assert.False(t, r.check(3, repeatReport(8)), "a report never delivered is delivered")
	assert.Equal(t, uint64(1), r.dropped.Load())
}

// TestS32rvsessRetriedRotationDropsSnapshotRepeat: a rotation whose new
// connection failed after its copy of a report had matched (and so
// consumed) the old connection's is retried within the window: the retry's
// connection repeats the report once more, and that copy is a repeat too.
// Before the fix the consumed entry was the only memory of it.
func TestS32rvsessRetriedRotationDropsSnapshotRepeat(t *testing.T) {
	clk := newEndClock()
	r := &repeats{clk: clk}
	t.Cleanup(r.stopNow)
	r.begin(2, 3)
	require.False(t, r.check(2, repeatReport(5)), "delivered on the old connection, in the window")
	require.True(t, r.check(3, repeatReport(5)), "the new connection's copy")
	r.begin(2, 4) // the rotation to 3 failed; retried at once
	assert.True(t, r.check(4, repeatReport(5)), "the retry's copy")
	assert.Equal(t, uint64(2), r.dropped.Load())
}
