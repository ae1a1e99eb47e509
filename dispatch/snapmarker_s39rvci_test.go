package dispatch_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// A venue's marker about a book's diffs reaches every subscriber of the
// symbol's snapshots, whatever their view (Filter has no depth): a host
// following a whole book by its tops (normalize/book's PublishTop of 5
// levels: snapshots of Book.Depth 5, diffs and their markers of Depth 0,
// Binance and Coinbase), or a Bybit orderbook.50 book by its tops of 5.
// Displaced from a full ordered lane, the marker must still go out before
// the snapshots published after it, whatever their view: S39ci looked it
// up by the snapshot's own view only, so the marker of the diffs' view
// came after every later top, telling the host its latest top (taken after
// the loss) was broken.
func TestS39rvciDisplacedDiffMarkerBeforeLaterTopsOfAnyView(t *testing.T) {
	for _, tc := range []struct {
		diffs []int // the views of the markers, published in turn
		tops  int
	}{
		{diffs: []int{0}, tops: 5},       // a whole book's tops
		{diffs: []int{50}, tops: 5},      // a view's tops
		{diffs: []int{400}, tops: 400},   // the same view (S39ci's case, its test folded in here)
		{diffs: []int{50, 200}, tops: 5}, // two views of the symbol lost diffs
	} {
		t.Run(fmt.Sprintf("diffs %v tops %d", tc.diffs, tc.tops), func(t *testing.T) {
			var view int // the next marker's
			d, s, pub := dispatch.BookSub(t, []schema.EventType{schema.EventBookSnapshot}, tc.tops, func(ev *schema.CanonicalEvent) {
				ev.Book.Depth = view
				ev.Control = &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapCount: 3, GapSource: schema.GapVenue}
			})
			publish := func(typ schema.EventType, seq uint64, v int) {
				view = v
				pub(typ, seq)
			}
			// Nothing read: tops fill the lane, the markers queue behind
			// them, tops 6-9 push them out of the lane.
			seq := uint64(1)
			for ; seq <= 5-uint64(len(tc.diffs)); seq++ {
				publish(schema.EventBookSnapshot, seq, 0)
			}
			for _, view := range tc.diffs {
				publish(schema.EventGap, seq, view)
				seq++
			}
			for ; seq <= 9; seq++ {
				publish(schema.EventBookSnapshot, seq, 0)
			}
			got := dispatch.CloseAndRead(t, d, s, dispatch.TopName)
			marker, first, markers := -1, -1, 0
			for i, g := range got {
				switch {
				case g == "venue marker":
					marker = i
					markers++
				case first < 0 && g >= "top 6":
					first = i
				}
			}
			require.Equal(t, len(tc.diffs), markers, "the venue's markers were delivered: %v", got)
			require.Positive(t, first, "%v", got)
			require.Less(t, marker, first, "the venue's marker after a top published after it: %v", got)
			require.Equal(t, "top 9", got[len(got)-1], "the latest top last: %v", got)
		})
	}
}
