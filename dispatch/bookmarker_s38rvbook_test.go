package dispatch_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// A gap marker about book diffs (GapType EventBookUpdate) reached the
// subscribers of diffs and of markers only: a subscriber of the book's
// snapshots alone kept the broken book's last snapshot as current. It
// now reaches the subscribers of snapshots too, each subscriber once
// whatever it names (snapshots, diffs, markers, all three); a marker
// about snapshots reaches no subscriber of diffs alone.
func TestS38rvbookDiffMarkerReachesSnapshotSubscribersOnce(t *testing.T) {
	events := schema.NewPools(nil).Events
	d := dispatch.New(events, nil)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, d.Close(ctx))
	})
	snap, diff, gap := schema.EventBookSnapshot, schema.EventBookUpdate, schema.EventGap
	want := []struct {
		types      []schema.EventType
		diffMarker int // markers about diffs it gets
		snapMarker int // markers about snapshots it gets
	}{
		{[]schema.EventType{snap}, 1, 1},
		{[]schema.EventType{diff}, 1, 0},
		{[]schema.EventType{snap, diff}, 1, 1},
		{[]schema.EventType{snap, diff, gap}, 1, 1},
		{[]schema.EventType{schema.EventTrade}, 0, 0},
	}
	subs := make([]*dispatch.Subscription, len(want))
	for i, w := range want {
		s, err := d.Subscribe(dispatch.Filter{Venues: []schema.Venue{schema.VenueOKX}, Symbols: []string{"BTC-USDT"}, Types: w.types}, nil)
		require.NoError(t, err)
		subs[i] = s
	}
	publish := func(typ, gapType schema.EventType, ingest int64) {
		ev, err := events.Get(context.Background())
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type, ev.IngestTS, ev.Book.Depth = schema.VenueOKX, "BTC-USDT", typ, ingest, 400
		if typ == gap {
			ev.Control = &schema.Control{Kind: schema.ControlGap, GapType: gapType, GapSource: schema.GapVenue}
		}
		require.NoError(t, d.Publish(context.Background(), ev))
	}
	publish(gap, diff, 1)
	publish(gap, snap, 2)
	// The end of each subscriber's deliveries: one event of every type it
	// names, published after the markers, in line behind them.
	for _, typ := range []schema.EventType{snap, diff, schema.EventTrade} {
		publish(typ, 0, 99)
	}
	for i, w := range want {
		ends := 0
		for _, typ := range w.types {
			if typ != gap {
				ends++
			}
		}
		got := map[schema.EventType]int{}
		for ends > 0 {
			select {
			case ev := <-subs[i].C():
				if ev.Type == gap {
					got[ev.Control.GapType]++
				} else if ev.IngestTS == 99 {
					ends--
				}
			case <-time.After(60 * time.Second):
				t.Fatalf("%v: not all delivered; %+v", w.types, subs[i].Stats())
			}
		}
		require.Equal(t, w.diffMarker, got[diff], "%v: markers about diffs", w.types)
		require.Equal(t, w.snapMarker, got[snap], "%v: markers about snapshots", w.types)
	}
}
