package dispatch

import (
	"testing"
)

// Review s31rvdisp: TestS24rvReportsThroughKeySpaceChurn failed about 1 run
// in 15 on a loaded machine ("the latest best bid/offer lost"): its
// subscriber, starved, fell more than maxQuotes quotes behind, and the
// dispatcher dropped the oldest queued — a quiet stream's slot holding its
// latest quote among them — each announced by a gap marker (contract 4).
// The test took that for a lost quote. Here the subscriber is held still
// until every event is published, which makes the drops certain: the run
// must still pass, every latest quote either delivered or its loss
// announced after the stream's last quote delivered. Which slots are the
// oldest when the queue passes maxQuotes depends on how the three
// publishers interleave, so whether a quiet stream's latest is among the
// dropped is not certain (CI run 40 under -race: none was); the count is
// logged, and keySpaceChurn's checks fail on a latest lost unannounced.
func TestS31rvdispChurnPastTheQuoteBound(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes 100k events")
	}
	t.Logf("%d streams' latest quote dropped, each announced", keySpaceChurn(t, true))
}
