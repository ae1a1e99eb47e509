package dispatch_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// A gap marker that covers more than one ordered stream — about every
// symbol of a venue (Symbol "": a connection lost), or about every stream
// of a symbol (GapType schema.EventUnknown) — is a critical event: it
// overtakes the ordered events queued before it. A book snapshot or diff
// from before the loss delivered after the marker passes for the book
// after it: the host takes a stale book as good (seen: [marker 1 2 3 4 6
// 7]). The book events it covers are dropped when it is queued (counted
// in Stats.Coalesced), as the quotes it covers are: the subscriber hears
// of the loss, then only what was published after it. Trades stay, in
// order (TestS23MarkerDiscardsTheQuotesQueuedBeforeIt).
func TestS39disp2WideMarkerDropsOrderedEventsQueuedBeforeIt(t *testing.T) {
	for _, tc := range []struct {
		name    string
		symbol  string
		gapType schema.EventType
		typ     schema.EventType // the queued events' type
		other   bool             // the queued events are of another symbol than the marker's
		covered bool
	}{
		{name: "venue-wide, no type: snapshots", gapType: schema.EventUnknown, typ: schema.EventBookSnapshot, covered: true},
		{name: "venue-wide, no type: diffs", gapType: schema.EventUnknown, typ: schema.EventBookUpdate, covered: true},
		{name: "venue-wide, no type: trades untouched", gapType: schema.EventUnknown, typ: schema.EventTrade},
		{name: "venue-wide snapshots: diffs untouched", gapType: schema.EventBookSnapshot, typ: schema.EventBookUpdate},
		{name: "venue-wide snapshots: snapshots", gapType: schema.EventBookSnapshot, typ: schema.EventBookSnapshot, covered: true},
		{name: "venue-wide trades: snapshots untouched", gapType: schema.EventTrade, typ: schema.EventBookSnapshot},
		{name: "venue-wide diffs: snapshots", gapType: schema.EventBookUpdate, typ: schema.EventBookSnapshot, covered: true},
		{name: "venue-wide diffs: diffs", gapType: schema.EventBookUpdate, typ: schema.EventBookUpdate, covered: true},
		{name: "venue-wide diffs: trades untouched", gapType: schema.EventBookUpdate, typ: schema.EventTrade},
		{name: "symbol, no type: snapshots", symbol: "BTCUSDT", gapType: schema.EventUnknown, typ: schema.EventBookSnapshot, covered: true},
		{name: "symbol, no type: another symbol untouched", symbol: "BTCUSDT", gapType: schema.EventUnknown, typ: schema.EventBookSnapshot, other: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := schema.NewPools(nil).Events
			d := dispatch.New(events, nil)
			s, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{tc.typ}}, &dispatch.SubscribeOptions{OrderedBound: 16})
			require.NoError(t, err)
			ctx := context.Background()
			publish := func(typ schema.EventType, seq uint64) {
				ev, err := events.Get(ctx)
				require.NoError(t, err)
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBybit, "BTCUSDT", typ, seq
				if tc.other {
					ev.Symbol = "ETHUSDT"
				}
				if typ == schema.EventGap {
					ev.Symbol = tc.symbol
					ev.Control = &schema.Control{Kind: schema.ControlGap, GapType: tc.gapType, GapSource: schema.GapVenue, Reason: "connection lost"}
				}
				require.NoError(t, d.Publish(ctx, ev))
			}
			// Nothing read: 1-4 queued (1 may be in hand already), the
			// marker (5), then 6-7 published after the loss.
			for seq := uint64(1); seq <= 4; seq++ {
				publish(tc.typ, seq)
			}
			publish(schema.EventGap, 5)
			publish(tc.typ, 6)
			publish(tc.typ, 7)
			got := dispatch.CloseAndRead(t, d, s, func(ev *schema.CanonicalEvent) string {
				if ev.Type == schema.EventGap {
					return "marker"
				}
				return fmt.Sprint(ev.SeqProvider)
			})
			marker := -1
			for i, g := range got {
				if g == "marker" {
					marker = i
				}
			}
			if !tc.covered {
				// Left alone, in order; the marker (if routed here)
				// anywhere before 6.
				var data []string
				for _, g := range got {
					if g != "marker" {
						data = append(data, g)
					}
				}
				require.Equal(t, []string{"1", "2", "3", "4", "6", "7"}, data, "events it does not cover are left alone")
				return
			}
			require.GreaterOrEqual(t, marker, 0, "the marker was delivered: %v", got)
			for _, g := range got[marker+1:] {
				require.Contains(t, []string{"6", "7"}, g, "an event from before the loss went out after its marker: %v", got)
			}
			require.Equal(t, []string{"6", "7"}, got[len(got)-2:], "%v", got)
			st := s.Stats()
			require.Equal(t, uint64(len(got)), st.Delivered)
			require.Equal(t, uint64(7), st.Delivered+st.Coalesced, "what was dropped is counted: %+v", st)
		})
	}
}
