package dispatch

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A gap marker the dispatcher made for a slow subscriber (its queue
// dropped book events) waits to go out before its stream's next event. A
// venue's marker that covers more than one stream (a connection lost:
// Symbol "", or a whole symbol: GapType schema.EventUnknown) goes out on
// the critical lane, ahead of it, and the book events queued before the
// loss are dropped. The waiting marker then went out after the venue's,
// just before the first event published after the loss — the snapshot
// the host's resync is waiting for —, telling it that book was broken
// too: a needless second resync. Its loss came before the venue's marker,
// so it goes out before it; where the venue's marker covers no book
// stream of its (a marker about another symbol, about snapshots when the
// queue lost diffs) it waits as before.
func TestS40dispQueueMarkerGoesBeforeTheWideMarker(t *testing.T) {
	for _, tc := range []struct {
		name    string
		symbol  string           // the venue marker's
		gapType schema.EventType // the venue marker's
		lost    schema.EventType // what the queue dropped
		covered bool
	}{
		{name: "connection lost, diffs dropped", gapType: schema.EventUnknown, lost: schema.EventBookUpdate, covered: true},
		{name: "connection lost, snapshots dropped", gapType: schema.EventUnknown, lost: schema.EventBookSnapshot, covered: true},
		{name: "symbol lost, diffs dropped", symbol: "BTCUSDT", gapType: schema.EventUnknown, lost: schema.EventBookUpdate, covered: true},
		{name: "venue-wide diffs, diffs dropped", gapType: schema.EventBookUpdate, lost: schema.EventBookUpdate, covered: true},
		{name: "venue-wide diffs, snapshots dropped", gapType: schema.EventBookUpdate, lost: schema.EventBookSnapshot, covered: true},
		{name: "venue-wide snapshots, snapshots dropped", gapType: schema.EventBookSnapshot, lost: schema.EventBookSnapshot, covered: true},
		{name: "venue-wide snapshots, diffs dropped", gapType: schema.EventBookSnapshot, lost: schema.EventBookUpdate},
		{name: "another symbol lost", symbol: "ETHUSDT", gapType: schema.EventUnknown, lost: schema.EventBookUpdate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, s, publish := bookSub(t, []schema.EventType{schema.EventBookSnapshot, schema.EventBookUpdate}, 0, func(ev *schema.CanonicalEvent) {
				ev.Symbol = tc.symbol
				ev.Control = &schema.Control{Kind: schema.ControlGap, GapType: tc.gapType, GapSource: schema.GapVenue, Reason: "connection lost"}
			})
			// 1 in hand (offered on C, not read); 2-5 fill the lane, 6
			// drops 2: the queue's marker waits, 3-6 behind it.
			publish(tc.lost, 1)
			eventually(t, func() bool { return s.Stats().InHand == 1 }, "1 in hand")
			for seq := uint64(2); seq <= 6; seq++ {
				publish(tc.lost, seq)
			}
			s.mu.Lock()
			waiting := s.pending.len()
			s.mu.Unlock()
			require.Equal(t, 1, waiting, "the queue's marker waits")
			publish(schema.EventGap, 7)
			publish(schema.EventBookSnapshot, 8) // the resync's snapshot
			got := closeAndRead(t, d, s, func(ev *schema.CanonicalEvent) string {
				if ev.Type == schema.EventBookUpdate {
					return fmt.Sprintf("diff %d", ev.SeqProvider)
				}
				return topName(ev)
			})
			at := func(what string) int { return indexOf(t, got, what) }
			queue, venue := at("queue marker"), at("venue marker")
			require.Equal(t, "top 8", got[len(got)-1], "%v", got)
			if tc.covered {
				require.Less(t, queue, venue, "the queue's marker, of a loss before the venue's, went out after it: %v", got)
				for _, g := range got[venue+1:] {
					require.Equal(t, "top 8", g, "only what was published after the loss after its marker: %v", got)
				}
			} else {
				require.Less(t, venue, queue, "a marker the venue's does not cover waits for its stream: %v", got)
			}
			st := s.Stats()
			require.Equal(t, uint64(1), st.Gaps, "%+v", st)
			require.Equal(t, 8+st.Gaps, st.Delivered+st.Dropped+st.Coalesced, "every event in one place: %+v", st)
		})
	}
}
