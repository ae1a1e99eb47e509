package merge

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Review s24, written from doc.go: venues quote one price with different
// digits (Binance "100.0", OKX "100.00"), a tie is credited to the venue
// named first in Options.Venues whatever the digits, the view keeps the
// credited venue's own digits, a crossed view is shown as quoted, and a
// quote's age counts from the earliest of its ExchangeTS, IngestTS and
// receipt, a venue clock ahead of the host's not making it younger.
func TestS24ContinuousScalesTiesSkew(t *testing.T) {
	r := newRig(t, Options{Mode: Continuous, Staleness: 5 * time.Second})
	ctx := context.Background()
	quote := func(v schema.Venue, bid, ask string, exAhead time.Duration) {
		ev := bbo(v, bid, ask)
		ev.ExchangeTS = r.clk.now().Add(exAhead).UnixNano()
		require.NoError(t, r.m.Add(ctx, ev))
	}
	// OKX first, at 100.00; Binance joins at 100.0: the same price, credited
	// to Binance (named first), with its digits.
	quote(schema.VenueOKX, "100.00", "101.000", 0)
	m := r.next(t)
	assert.Equal(t, schema.VenueOKX, m.BestBidVenue)
	quote(schema.VenueBinance, "100.0", "101.5", time.Hour) // its clock an hour ahead
	m = r.next(t)
	assert.Equal(t, schema.VenueBinance, m.BestBidVenue, "a tie goes to the venue named first")
	assert.Equal(t, "100.0", m.BestBid.String(), "the credited venue's digits")
	assert.Equal(t, schema.VenueOKX, m.BestAskVenue)
	assert.Equal(t, "101.000", m.BestAsk.String())
	assert.Len(t, m.Fragments, 2)

	// Crossed across venues: shown as quoted.
	quote(schema.VenueOKX, "99.00", "99.50", -2*time.Second) // sent 2 s ago
	m = r.next(t)
	assert.Equal(t, "100.0", m.BestBid.String())
	assert.Equal(t, "99.50", m.BestAsk.String())
	assert.Positive(t, m.BestBid.Cmp(m.BestAsk), "crossed, as quoted")

	// OKX's quote was 2 s old on arrival: it leaves at 3 s; Binance's,
	// stamped an hour ahead, counts from its receipt: it stays until 5 s.
	r.clk.set(r.clk.now().Add(3 * time.Second))
	require.NoError(t, r.m.Tick(ctx))
	m = r.next(t)
	assert.Equal(t, []schema.Venue{schema.VenueOKX}, m.Missing)
	assert.Equal(t, schema.VenueBinance, m.BestBidVenue)
	r.clk.set(r.clk.now().Add(2 * time.Second))
	require.NoError(t, r.m.Tick(ctx))
	m = r.next(t)
	assert.ElementsMatch(t, []schema.Venue{schema.VenueBinance, schema.VenueOKX}, m.Missing)
	assert.True(t, m.BestBid.IsZero() && m.BestAsk.IsZero())
}
