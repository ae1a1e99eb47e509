package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS43sessReportWithoutSectionAllocatesNothing: check reads a report
// without its Exec section (a malformed report) as zero without an
// allocation, in a rotation's window and out of one, and gives the report
// no section. (Session 42's review took check's new(schema.Execution) for
// an allocation; escape analysis keeps it on the stack — "does not
// escape" — so this pins it: seen failing, 1 allocation a report, with x
// kept in a package variable so that it escapes.)
func TestS43sessReportWithoutSectionAllocatesNothing(t *testing.T) {
	clk := newEndClock()
	r := &repeats{clk: clk}
	t.Cleanup(r.stopNow)
	ev := &schema.CanonicalEvent{Type: schema.EventExecReport, Symbol: "BTC-USDT"}
	require.Nil(t, ev.Exec)
	r.check(1, ev) // warm: the ring's storage
	assert.Zero(t, testing.AllocsPerRun(100, func() { r.check(1, ev) }), "out of a rotation")
	r.begin(1, 2)
	r.check(2, ev) // warm: the window's index
	r.check(1, ev)
	assert.Zero(t, testing.AllocsPerRun(100, func() { r.check(1, ev) }), "in a rotation's window")
	assert.Nil(t, ev.Exec, "the report is not given a section")
}
