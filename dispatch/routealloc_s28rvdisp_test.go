//go:build !race

package dispatch

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS28rvPublishAllocsAfterSubscribes: routes shared across indexes
// with an epoch are brought up to date once per stream after a Subscribe;
// from then on a Publish allocates nothing (no subscriber wants these
// streams: no clone), after one Subscribe as after a run of more than
// maxChanges of them.
func TestS28rvPublishAllocsAfterSubscribes(t *testing.T) {
	const streams = 200
	d, discard, publish, done := routeAllocs(t, streams)
	defer done()
	for _, subs := range []int{1, 1, maxChanges + 3} {
		for range subs {
			_, err := d.Subscribe(Filter{Venues: []schema.Venue{okx}}, discard)
			require.NoError(t, err)
		}
		for range streams {
			publish() // each stream's route brought up to date
		}
		require.Zero(t, testing.AllocsPerRun(2*streams, publish), "after %d Subscribes", subs)
	}
}
