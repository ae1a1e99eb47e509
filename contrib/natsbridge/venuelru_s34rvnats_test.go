package natsbridge

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS34rvnatsVenueSeenAgainKept: the venues told of a lost link are the
// 256 seen most recently, not the 256 first seen since the last one
// forgotten: a venue that keeps sending outlives a flood of stray venues
// named once each (a first-in first-out bound told the host's own venue,
// seen a moment ago, nothing). And noting a venue, forgotten one included,
// costs no allocation: it runs on the consumer's path, once per change of
// venue.
func TestS34rvnatsVenueSeenAgainKept(t *testing.T) {
	c := &Consumer{venues: newLRU[schema.Venue, struct{}](maxVenues), log: slog.New(slog.DiscardHandler)}
	stray := make([]schema.Venue, 2*maxVenues)
	for i := range stray {
		stray[i] = schema.Venue(fmt.Sprintf("stray%04d", i))
	}
	c.noteVenue(schema.VenueBinance)
	for _, v := range stray[:maxVenues-1] {
		c.noteVenue(v)
	}
	c.noteVenue(schema.VenueBinance) // seen again
	c.noteVenue(stray[maxVenues-1])  // the 257th venue
	_, kept := c.venues.m[schema.VenueBinance]
	require.True(t, kept, "a venue seen a moment ago forgotten")
	_, kept = c.venues.m[stray[0]]
	require.False(t, kept, "the least recently seen kept")
	require.Equal(t, uint64(1), c.venuesForgotten.load())

	i := 0
	allocs := testing.AllocsPerRun(10*len(stray), func() {
		c.noteVenue(stray[i%len(stray)]) // each forgets another
		i++
	})
	require.Zero(t, allocs, "allocations per venue noted")
}
