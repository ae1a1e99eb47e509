package merge

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A host may hand the Merger a connection state or a gap marker without
// its Control section (schema's compact event: nil unless carried). It
// reads as a zero one — a state not known (the venue leaves the view), a
// marker about every stream (the venue's quote is lost; in a window, one
// event lost) — never a panic. Before the fix each Add below panicked
// (nil pointer dereference reading ev.Control).
func TestS42dispEventsWithoutControl(t *testing.T) {
	ctx := context.Background()
	t.Run("continuous", func(t *testing.T) {
		r := newRig(t, Options{Mode: Continuous})
		base := t0.UnixNano()
		require.NoError(t, r.m.Add(ctx, bboAt(schema.VenueOKX, "99", "102", base)))
		r.next(t)
		require.NoError(t, r.m.Add(ctx, bboAt(schema.VenueBinance, "100", "101", base+1)))
		require.Equal(t, schema.VenueBinance, r.next(t).BestBidVenue)

		require.NoError(t, r.m.Add(ctx, &schema.CanonicalEvent{Venue: schema.VenueBinance, Type: schema.EventConnState, IngestTS: base + 2}))
		c := r.next(t)
		require.Equal(t, schema.VenueOKX, c.BestBidVenue, "a state not known: binance left")
		require.Equal(t, []schema.Venue{schema.VenueBinance}, c.Missing)

		require.NoError(t, r.m.Add(ctx, connState(schema.VenueBinance, schema.ConnConnected, base+3)))
		require.NoError(t, r.m.Add(ctx, bboAt(schema.VenueBinance, "100", "101", base+4)))
		require.Equal(t, schema.VenueBinance, r.next(t).BestBidVenue)
		require.NoError(t, r.m.Add(ctx, &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventGap, IngestTS: base + 5}))
		require.Equal(t, schema.VenueOKX, r.next(t).BestBidVenue, "a marker about every stream: binance's quote lost")
	})
	t.Run("windowed", func(t *testing.T) {
		e := newExhaustible(t, Options{Mode: Windowed, Window: time.Second})
		require.NoError(t, e.m.Add(ctx, trade(schema.VenueBinance, 0, "100")))
		require.NoError(t, e.m.Add(ctx, &schema.CanonicalEvent{Venue: schema.VenueOKX, Symbol: "BTC-USDT", Type: schema.EventGap}))
		require.Equal(t, uint64(1), e.m.Stats().Lost, "a marker about every stream, count unknown: one lost")
	})
}
