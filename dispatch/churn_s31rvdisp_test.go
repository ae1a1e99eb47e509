package dispatch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Review s31rvdisp: TestS24rvReportsThroughKeySpaceChurn failed about 1 run
// in 15 on a loaded machine ("the latest best bid/offer lost"): its
// subscriber, starved, fell more than maxQuotes quotes behind, and the
// dispatcher dropped the oldest queued — a quiet stream's slot holding its
// latest quote among them — each announced by a gap marker (contract 4).
// The test took that for a lost quote. Here the subscriber is held still
// until every event is published, which makes the drops certain: the run
// must still pass, every latest quote either delivered or its loss
// announced after the stream's last quote delivered; and some must be
// announced, or the run did not test what it says.
func TestS31rvdispChurnPastTheQuoteBound(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes 100k events")
	}
	require.Positive(t, keySpaceChurn(t, true), "no stream's latest quote was dropped: the subscriber was not held past maxQuotes")
}
