package dispatch

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// S27 review: symbols that never come back (options and dated futures
// listed and expired by the thousand), however fast they come, keep the
// route index at its floor: two generations of maxRoutes, not of maxLimit.
// The root contract TestS25ctSymbolChurnMemoryIsBounded measured the live
// heap growing from 48.6 MiB to 87.3 MiB when a generation filling within
// a second doubled the next one's limit.
func TestS27rvChurnKeepsTheFloor(t *testing.T) {
	s := &Subscription{id: 1, m: compile(Filter{})}
	ix := newIndex([]*Subscription{s})
	// Under the race detector an eighth of the limits and of the streams
	// (raceFloor): still 8 generations of the floor, each of which would
	// double a limit that grew with streams that never came back.
	floor := raceFloor(ix)
	for i := range 8 * floor {
		if r := ix.route(routeKey{venue: schema.VenueOKX, symbol: "C-" + strconv.Itoa(i), typ: schema.EventTicker}); len(r) != 1 {
			t.Fatalf("stream %d: %d subscribers routed, want 1", i, len(r))
		}
	}
	ix.mu.Lock()
	limit := ix.limit
	ix.mu.Unlock()
	require.Equal(t, floor, limit, "the limit grew with streams that never came back")
	require.LessOrEqual(t, ix.size(), 2*floor)
}
