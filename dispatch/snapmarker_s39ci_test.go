package dispatch_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// A subscriber of a book's snapshots alone gets the venue's markers about
// the book's diffs (S38). Such a marker travels in line; displaced from
// the front of a full ordered lane it waits, and must go out before the
// snapshots published after it (its place in line): delivered after them
// it would tell the subscriber that its latest snapshot, taken after the
// loss, is broken.
func TestS39ciDisplacedDiffMarkerBeforeLaterSnapshots(t *testing.T) {
	events := schema.NewPools(nil).Events
	d := dispatch.New(events, nil)
	s, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBookSnapshot}}, &dispatch.SubscribeOptions{OrderedBound: 4})
	require.NoError(t, err)
	ctx := context.Background()
	publish := func(typ schema.EventType, seq uint64) {
		ev, err := events.Get(ctx)
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider, ev.Book.Depth = schema.VenueOKX, "BTC-USDT", typ, seq, 400
		if typ == schema.EventGap {
			ev.Control = schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapCount: 3, GapSource: schema.GapVenue}
		}
		require.NoError(t, d.Publish(ctx, ev))
	}
	// Nothing read: snapshots 1-4 fill the lane (the first may be in the
	// subscription's hand already), the marker (5) queues behind them,
	// snapshots 6-9 push it out of the lane.
	for seq := uint64(1); seq <= 4; seq++ {
		publish(schema.EventBookSnapshot, seq)
	}
	publish(schema.EventGap, 5)
	for seq := uint64(6); seq <= 9; seq++ {
		publish(schema.EventBookSnapshot, seq)
	}
	closed := make(chan error, 1)
	go func() {
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		closed <- d.Close(cctx)
	}()
	venueMarker, firstSnap := -1, -1
	var snaps []uint64
	i := 0
	for ev := range s.C() {
		switch {
		case ev.Type == schema.EventBookSnapshot:
			if firstSnap < 0 && ev.SeqProvider > 5 {
				firstSnap = i
			}
			snaps = append(snaps, ev.SeqProvider)
		case ev.Type == schema.EventGap && ev.Control.GapSource == schema.GapVenue:
			require.Equal(t, schema.EventBookUpdate, ev.Control.GapType)
			venueMarker = i
		}
		i++
	}
	require.NoError(t, <-closed)
	require.Equal(t, uint64(9), snaps[len(snaps)-1], "the latest snapshot last: %v", snaps)
	require.Positive(t, firstSnap, "%v", snaps)
	require.GreaterOrEqual(t, venueMarker, 0, "the venue's marker was delivered")
	require.Less(t, venueMarker, firstSnap, "the venue's marker went out after snapshot 6, published after it")
}
