package dispatch

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS28rvQuoteBoundMarkerCountsOnCriticalLane: the gap marker of a quote
// dropped past the coalescing lane's bound is queued on the critical lane,
// and so counts against CriticalBound like any critical event there: past
// it Stats.Overflowed counts it and the overflow is reported (the
// OnCriticalOverflow alarm, the log). It was pushed around that
// accounting: a critical lane over its bound, none of it told.
func TestS28rvQuoteBoundMarkerCountsOnCriticalLane(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	r, s := stalled(t, d, p, SubscribeOptions{CriticalBound: 1}, schema.EventTrade)
	s.mu.Lock()
	s.quoteBound, s.staleBound = 1, 0 // markers per (venue, type)
	s.mu.Unlock()
	for i, v := range []schema.Venue{bin, okx} {
		publish(t, d, p, v, "A", schema.EventBBO, uint64(2*i+1))
		publish(t, d, p, v, "B", schema.EventBBO, uint64(2*i+2)) // past the bound: v's A dropped, a marker queued
	}
	st := s.Stats()
	require.Equal(t, 2, st.Critical, "one marker per venue")
	require.Equal(t, uint64(1), st.Overflowed, "the second marker took the critical lane past its bound, untold")
	r.open()
	closeDispatcher(t, d)
}
