package dispatch

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// What contrib/natsbridge's Consumer publishes into the receiving
// dispatcher for a loss it cannot place on one stream — a marker that
// covers more than one book (its doc: "a gap marker (schema.EventGap,
// Control.GapType schema.EventUnknown, no Symbol, GapCount 0, GapSource
// schema.GapRelay) about every venue whose market data it brought" once
// its link is back, markStale; and, past MaxStreams, "one per venue and
// type naming no symbol", with the view of the stream it lost, gap) —
// drops the book snapshots and diffs queued before it, as a venue's own
// marker does: a snapshot from before the loss delivered after the
// marker would pass for the book after it. Trades stay, in order. The
// marker is the bridge's as published (its source and reason intact);
// the receiving dispatcher reads nothing else of it.
func TestS40dispRelayedWideMarkerDropsQueuedBookEvents(t *testing.T) {
	for _, tc := range []struct {
		name    string
		gapType schema.EventType
		depth   int // the view it names
		covered []uint64
	}{
		{name: "link back: every stream of the venue", gapType: schema.EventUnknown, covered: []uint64{2, 3, 5}},
		{name: "past MaxStreams: the venue's diffs", gapType: schema.EventBookUpdate, depth: 50, covered: []uint64{2, 3, 5}},
		{name: "past MaxStreams: the venue's snapshots", gapType: schema.EventBookSnapshot, depth: 5, covered: []uint64{2, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const reason = "natsbridge: an unknown number of events (link lost) lost between ingest and consumer"
			d, s, publish := bookSub(t, []schema.EventType{schema.EventBookSnapshot, schema.EventBookUpdate, schema.EventTrade}, 5, func(ev *schema.CanonicalEvent) {
				ev.Symbol, ev.Book.Depth = "", tc.depth
				ev.Control = &schema.Control{Kind: schema.ControlGap, GapType: tc.gapType, GapSource: schema.GapRelay, Reason: reason}
			})
			// 1 in hand (offered on C, not read); 2-5 queued, the lane
			// full; the relay's marker (6); then 7, published after it.
			publish(schema.EventBookSnapshot, 1)
			eventually(t, func() bool { return s.Stats().InHand == 1 }, "1 in hand")
			publish(schema.EventBookSnapshot, 2)
			publish(schema.EventBookUpdate, 3)
			publish(schema.EventTrade, 4)
			publish(schema.EventBookSnapshot, 5)
			publish(schema.EventGap, 6)
			publish(schema.EventBookSnapshot, 7)
			got := closeAndRead(t, d, s, func(ev *schema.CanonicalEvent) string {
				if ev.Type == schema.EventGap {
					require.Equal(t, schema.GapRelay, ev.Control.GapSource)
					require.Equal(t, reason, ev.Control.Reason)
					return "relay marker"
				}
				return fmt.Sprintf("%s %d", ev.Type, ev.SeqProvider)
			})
			want := []string{"book_snapshot 1", "relay marker"}
			for _, seq := range []uint64{2, 3, 4, 5} {
				name := map[uint64]string{2: "book_snapshot", 3: "book_update", 4: "trade", 5: "book_snapshot"}[seq]
				if !slices.Contains(tc.covered, seq) {
					want = append(want, fmt.Sprintf("%s %d", name, seq))
				}
			}
			want = append(want, "book_snapshot 7")
			require.Equal(t, want, got, "nothing of the books it covers from before the loss after its marker")
			st := s.Stats()
			require.Equal(t, uint64(len(tc.covered)), st.Coalesced, "%+v", st)
			require.Equal(t, 7+st.Gaps, st.Delivered+st.Dropped+st.Coalesced, "every event in one place: %+v", st)
		})
	}
}
