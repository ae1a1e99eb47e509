package dispatch

import (
	"context"
	"testing"
	"time"

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
	events := schema.NewPools(nil).Events
	d := New(events, nil)
	s, err := d.Subscribe(Filter{Types: []schema.EventType{schema.EventBookSnapshot}}, &SubscribeOptions{OrderedBound: 4})
	require.NoError(t, err)
	ctx := context.Background()
	publish := func(typ schema.EventType, seq uint64) {
		ev, err := events.Get(ctx)
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider, ev.Book.Depth = schema.VenueBybit, "BTCUSDT", typ, seq, 5
		if typ == schema.EventGap {
			ev.Book.Depth = 0
			ev.Control = schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapCount: 3, GapSource: schema.GapVenue}
		}
		require.NoError(t, d.Publish(ctx, ev))
	}
	got := stageTop3(t, s, publish)
	// Top 7 fills the lane again; the venue's marker (8) queues behind
	// it, and tops 9-12 push it out of the lane: it waits.
	publish(schema.EventBookSnapshot, 7)
	publish(schema.EventGap, 8)
	for seq := uint64(9); seq <= 12; seq++ {
		publish(schema.EventBookSnapshot, seq)
	}
	closed := make(chan error, 1)
	go func() {
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		closed <- d.Close(cctx)
	}()
	for ev := range s.C() {
		got = append(got, topName(ev))
	}
	require.NoError(t, <-closed)
	at := func(what string) int {
		for i, g := range got {
			if g == what {
				return i
			}
		}
		t.Fatalf("%s not delivered: %v", what, got)
		return -1
	}
	require.Less(t, at("top 3"), at("venue marker"), "the venue's marker went out before top 3, published before it: %v", got)
	require.Less(t, at("venue marker"), at("top 9"), "the venue's marker went out after top 9, published after it: %v", got)
	require.Equal(t, "top 12", got[len(got)-1], "%v", got)
}
