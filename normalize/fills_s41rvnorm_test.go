package normalize

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s41rvnormChurn feeds repeatFill fills [from, to) of one order, each a
// new trade id, and returns the heap allocations they cost, counted
// exactly (not averaged over runs, as testing.AllocsPerRun does: a few
// map growths in thousands of fills average to zero there).
func s41rvnormChurn(t *testing.T, p *Parser, ids []schema.ID, from, to int) uint64 {
	t.Helper()
	ev := &schema.CanonicalEvent{Symbol: "BTC-USDT", Exec: &schema.Execution{}}
	require.NoError(t, ev.Exec.VenueOrderID.Set("o-1"))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := from; i < to; i++ {
		ev.Exec.ExecType, ev.Exec.Status, ev.Exec.TradeID = schema.ExecTrade, schema.StatusPartiallyFilled, ids[i]
		if p.repeatFill(ev, amendNone) {
			t.Fatalf("fill %d is new", i)
		}
	}
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs
}

// TestS41rvnormRecentFillsSettleThenZeroAllocs: the set of recent fills
// does not stop allocating when it is first full. Its map's deletions
// leave tombstones, and Go's map grows over them for a while (measured:
// growths about 7 and 9 times the bound's fills in, some 1.5 MB, with the
// set made small or at its bound alike), then settles. So "once full, a
// new fill allocates nothing" was not so: after 3 bounds' fills (the
// warm-up of TestS41normRecentFillsSteadyZeroAllocs, whose averaged count
// hid it) 16 bounds' more fills cost 17 allocations, seen failing here
// with warm = 3*maxRecentFills. Settled, a long churn allocates nothing.
func TestS41rvnormRecentFillsSettleThenZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	const warm, churn = 16 * maxRecentFills, 32 * maxRecentFills
	ids := make([]schema.ID, warm+churn)
	for i := range ids {
		require.NoError(t, ids[i].Set(fmt.Sprintf("T-%08d", i)))
	}
	events := schema.NewPools(nil).Events
	p := NewBybit(events, &putSink{events: events}, nil)
	s41rvnormChurn(t, p, ids, 0, warm)
	require.Zero(t, s41rvnormChurn(t, p, ids, warm, warm+churn), "settled: a new fill allocates nothing")
	require.Len(t, p.fills.ring, maxRecentFills)
	require.Len(t, p.fills.set, maxRecentFills)
}
