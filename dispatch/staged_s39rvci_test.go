package dispatch

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A snapshot taken off the ordered lane behind its stream's gap marker
// waits (staged) while the marker is handed over; a venue's marker about
// the book's diffs published after the snapshot, and displaced from the
// full lane meanwhile, must go out after it, not before: delivered
// before, it tells the subscriber that the snapshot it gets next (taken
// before the loss) is the book after it. S39ci's staged lookup took any
// diff marker waiting, also one made after the snapshot was staged.
func TestS39rvciDiffMarkerMadeWhileStagedGoesAfterTheSnapshot(t *testing.T) {
	d, s, publish := bookSub(t, []schema.EventType{schema.EventBookSnapshot}, 5, func(ev *schema.CanonicalEvent) {
		ev.Book.Depth = 0
		ev.Control = &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapCount: 3, GapSource: schema.GapVenue}
	})
	got := stageTop3(t, s, publish)
	// Top 7 fills the lane again; the venue's marker (8) queues behind
	// it, and tops 9-12 push it out of the lane: it waits.
	publish(schema.EventBookSnapshot, 7)
	publish(schema.EventGap, 8)
	for seq := uint64(9); seq <= 12; seq++ {
		publish(schema.EventBookSnapshot, seq)
	}
	got = append(got, closeAndRead(t, d, s, topName)...)
	at := func(what string) int { return indexOf(t, got, what) }
	require.Less(t, at("top 3"), at("venue marker"), "the venue's marker went out before top 3, published before it: %v", got)
	require.Less(t, at("venue marker"), at("top 9"), "the venue's marker went out after top 9, published after it: %v", got)
	require.Equal(t, "top 12", got[len(got)-1], "%v", got)
}
