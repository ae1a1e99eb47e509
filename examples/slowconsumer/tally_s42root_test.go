package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// TestS42rootTallyEventWithoutItsSection: the tally counts what a
// subscription hands it; since issue #15 a gap marker's Control and an
// execution report's Exec are nil unless the event carries them. A marker
// without Control counts as a marker of an unknown loss (0 events) and a
// report without Exec as a report, without a panic; with their sections
// both count as before.
func TestS42rootTallyEventWithoutItsSection(t *testing.T) {
	tl := newTally()
	assert.NotPanics(t, func() {
		tl.add(&schema.CanonicalEvent{Type: schema.EventGap})
		tl.add(&schema.CanonicalEvent{Type: schema.EventExecReport})
	})
	assert.Equal(t, 1, tl.gapEvents)
	assert.Equal(t, uint64(0), tl.gapCount)
	assert.Equal(t, 1, tl.execCount())

	tl.add(&schema.CanonicalEvent{Type: schema.EventGap, Control: &schema.Control{Kind: schema.ControlGap, GapCount: 3}})
	tl.add(&schema.CanonicalEvent{Type: schema.EventExecReport, Exec: &schema.Execution{ClientOrderID: schema.MustID("o-1"), Status: schema.StatusFilled}})
	tl.add(&schema.CanonicalEvent{Type: schema.EventExecReport, Exec: &schema.Execution{ClientOrderID: schema.MustID("o-1"), Status: schema.StatusNew}})
	assert.Equal(t, 2, tl.gapEvents)
	assert.Equal(t, uint64(3), tl.gapCount)
	assert.Equal(t, 3, tl.execCount())
	assert.Equal(t, 1, tl.outOfSeq, "New after Filled of one order is out of order")
}
