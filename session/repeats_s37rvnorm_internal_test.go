package session

import (
	"testing"

	"github.com/meltica/meltica/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// restated is ev's restatement by a new connection's snapshot: the same
// report, as ExecOrderStatus (normalize's Coinbase snapshot of an order
// known, unchanged).
func restated(ev *schema.CanonicalEvent) *schema.CanonicalEvent {
	c := ev.Clone() // its own Exec: the restatement's ExecType is not the original's
	c.Exec.ExecType = schema.ExecOrderStatus
	return c
}

// newReport is report i as its first report (ExecNew, New).
func newReport(i int) *schema.CanonicalEvent {
	ev := repeatReport(i)
	ev.Exec.ExecType, ev.Exec.Status = schema.ExecNew, schema.StatusNew
	ev.Exec.TransactTime = int64(1_700_000_000_000_000_000 + i)
	return ev
}

// TestS37rvnormRestatementIsARepeat: a rotation's new connection restates
// an order the old one reported (its snapshot: ExecOrderStatus, every
// other field equal) — a repeat, dropped, whether the old connection's
// report came before the rotation (the ring) or in its window (the
// index). Before s37rvnorm only a report equal in ExecType too was one:
// TestS30PrivateRotationPrepared/coinbase failed with normalize's
// Coinbase restatement (6249bd5).
func TestS37rvnormRestatementIsARepeat(t *testing.T) {
	clk := newEndClock()
	r := &repeats{clk: clk}
	t.Cleanup(r.stopNow)
	require.False(t, r.check(1, newReport(0)), "before the rotation")
	r.begin(1, 2)
	require.False(t, r.check(1, newReport(1)), "in the window, on the old connection")
	assert.True(t, r.check(2, restated(newReport(0))), "the snapshot's restatement of a report before the rotation")
	assert.True(t, r.check(2, restated(newReport(1))), "the snapshot's restatement of a report in the window")
	assert.Equal(t, uint64(2), r.dropped.Load())
}

// TestS37rvnormRestatementOnlyOfTheSame: a restatement is a repeat only
// on the new connection, and only when every field but ExecType equals
// the old connection's report: a status or quantity changed is news; an
// ExecOrderStatus on the old connection of a report from the new one is
// no snapshot's; the new connection's own reports are never compared.
func TestS37rvnormRestatementOnlyOfTheSame(t *testing.T) {
	clk := newEndClock()
	r := &repeats{clk: clk}
	t.Cleanup(r.stopNow)
	r.begin(1, 2)
	require.False(t, r.check(1, newReport(0)))
	moved := restated(newReport(0))
	moved.Exec.Status = schema.StatusPartiallyFilled
	assert.False(t, r.check(2, moved), "another status")
	grown := restated(newReport(0))
	grown.Exec.CumFillQty = schema.MustParseDecimal("0.5")
	assert.False(t, r.check(2, grown), "a quantity grown")
	require.False(t, r.check(2, newReport(3)))
	assert.False(t, r.check(1, restated(newReport(3))), "on the old connection")
	require.False(t, r.check(2, newReport(4)))
	assert.False(t, r.check(2, restated(newReport(4))), "the same connection's")
	assert.Zero(t, r.dropped.Load())
}

// TestS37rvnormRestatementAllocatesNothing: comparing a restatement
// allocates nothing once the window has grown to its reports.
func TestS37rvnormRestatementAllocatesNothing(t *testing.T) {
	clk := newEndClock()
	r := &repeats{clk: clk}
	t.Cleanup(r.stopNow)
	r.begin(1, 2)
	for i := range 8 {
		require.False(t, r.check(1, newReport(i)))
	}
	ev := restated(newReport(99)) // matches nothing: walks the ring and a chain
	r.check(2, ev)
	ring := restated(newReport(0))
	allocs := testing.AllocsPerRun(100, func() {
		r.check(2, ring)
	})
	assert.Zero(t, allocs)
}
