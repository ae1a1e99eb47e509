package dispatch

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// S27: the route index must keep every stream of a host learned when the
// host follows more streams than two generations of routes hold, quoting
// in turn (a relay of every option of a few venues), and learning a route
// must cost one Publish a bounded amount of work, whatever the streams
// learned before. An earlier session measured lookups of 30–126 ms at 100k
// streams in turn: every stream was forgotten before it came back, so every
// event learned its route again, and the read map was rebuilt by copying
// every route under the lock on one Publish — a stall of the publisher's
// goroutine, so a stale market for every subscriber.

func s27Keys(prefix string, n int) []routeKey {
	keys := make([]routeKey, n)
	for i := range keys {
		keys[i] = routeKey{venue: schema.VenueBinance, symbol: prefix + strconv.Itoa(i), typ: schema.EventBBO}
	}
	return keys
}

// A host publishing ~1M events a second over 3 × maxRoutes streams in
// turn: after a few rounds every stream's route is kept, and a round
// learns nothing (no subscription matched, no allocation).
func TestS27RoutesOfStreamsQuotingInTurn(t *testing.T) {
	s := &Subscription{id: 1, m: compile(Filter{})}
	ix := newIndex([]*Subscription{s})
	// Under the race detector an eighth of the limits, an eighth of the
	// streams: still 3 x what two generations of the floor hold, the
	// limit still has to grow to keep them.
	floor := raceFloor(ix)
	keys := s27Keys("S-", 3*floor+1000)
	round := func() {
		for _, k := range keys {
			if r := ix.route(k); len(r) != 1 {
				panic("wrong route")
			}
		}
	}
	for range 4 {
		round()
	}
	before := ix.matched
	round()
	require.Equal(t, before, ix.matched, "streams quoting in turn were learned again")
	require.Zero(t, allocsPerRun(t, 2, round), "streams quoting in turn were learned again")
	require.LessOrEqual(t, ix.size(), 4*len(keys), "routes kept beyond twice the limit")
}

// Learning a route costs one Publish a bounded amount: no single lookup
// allocates more than a few KiB, whatever the routes learned before (the
// promotion copied every route into a new read map on one lookup: MiB at
// 100k streams). Measured over windows of 64 lookups so that the heap's
// counters are read a few thousand times, not once per lookup.
func TestS27LearningBoundedPerLookup(t *testing.T) {
	// No -short skip: CI's coverage step (-short) is where the full
	// limits run (an eighth under -race).
	s := &Subscription{id: 1, m: compile(Filter{})}
	ix := newIndex([]*Subscription{s})
	// Under the race detector an eighth of the limits and of the streams
	// (raceFloor): a promotion that copied a generation of 4,096 routes
	// would still allocate hundreds of KiB on one lookup, several times
	// the bound below.
	floor := raceFloor(ix)
	keys := s27Keys("S-", 3*floor+1000)
	churn := s27Keys("NEW-", 2*floor)
	const window = 64
	var worst uint64
	var ms runtime.MemStats
	measure := func(keys []routeKey) {
		for i := 0; i < len(keys); i += window {
			runtime.ReadMemStats(&ms)
			b0 := ms.TotalAlloc
			for _, k := range keys[i:min(i+window, len(keys))] {
				ix.route(k)
			}
			runtime.ReadMemStats(&ms)
			worst = max(worst, ms.TotalAlloc-b0)
		}
	}
	measure(keys)  // learned for the first time
	measure(keys)  // taken back or learned again
	measure(churn) // new streams among them
	measure(keys)
	t.Logf("most bytes allocated by %d lookups: %d", window, worst)
	// A learned route costs a few hundred bytes: the trie's entry, the
	// boxed key, the route (and now and then a node of the trie).
	require.Less(t, worst, uint64(window*1024), "one lookup allocated O(routes)")
}

// Routes of streams that come and go are forgotten: at most two
// generations are kept. Streams of new symbols, however many and however
// fast (the events' rate is no evidence: options expiring by the thousand
// come as fast as streams quoting in turn), keep the limit at its floor;
// streams that come back after being forgotten (more of them quoting in
// turn than two generations hold) double it, up to its ceiling, and it
// comes back down once they stop.
func TestS27RoutesBoundedUnderChurn(t *testing.T) {
	s := &Subscription{id: 1, m: compile(Filter{})}
	ix := newIndex([]*Subscription{s})
	ix.floor, ix.ceil, ix.limit = 64, 1024, 64
	n := 0
	churn := func(count int) {
		for range count {
			n++
			routedOnce(t, ix, routeKey{venue: schema.VenueOKX, symbol: "C-" + strconv.Itoa(n), typ: schema.EventTicker})
		}
	}
	limit := func() int {
		ix.mu.Lock()
		defer ix.mu.Unlock()
		return ix.limit
	}
	churn(100 * 64)
	require.Equal(t, 64, limit())
	require.LessOrEqual(t, ix.size(), 2*64)

	churn(100 * 1024) // a burst of new symbols: no growth
	require.Equal(t, 64, limit(), "the limit grew with streams that never came back")
	require.LessOrEqual(t, ix.size(), 2*64)

	inTurn := func(keys []routeKey, rounds int) {
		for range rounds {
			for _, k := range keys {
				routedOnce(t, ix, k)
			}
		}
	}
	// 800 streams quoting in turn: far more than two generations of the
	// floor hold, fewer than a generation of the ceiling. They come back
	// and are kept: a round learns nothing.
	few := s27Keys("T-", 800)
	inTurn(few, 8)
	require.GreaterOrEqual(t, limit(), len(few)/2)
	require.LessOrEqual(t, limit(), 1024)
	before := ix.matched
	inTurn(few, 1)
	require.Equal(t, before, ix.matched, "streams quoting in turn were learned again")
	require.LessOrEqual(t, ix.size(), 2*1024)

	// More of them than two generations of the ceiling hold: the limit
	// grows to its ceiling, no further.
	inTurn(s27Keys("U-", 3*1024), 8)
	require.Equal(t, 1024, limit(), "the limit grows to its ceiling, no further")
	require.LessOrEqual(t, ix.size(), 2*1024)

	churn(8 * 1024) // they stopped: churn again
	require.Equal(t, 64, limit(), "the limit came back to its floor")
	require.LessOrEqual(t, ix.size(), 2*64)
}

// routedOnce fails t unless stream k routes to one subscriber: a plain
// comparison, as the tests here make ~150k lookups (testify's require.Len
// on each took most of their time under the race detector).
func routedOnce(t *testing.T, ix *index, k routeKey) {
	t.Helper()
	if r := ix.route(k); len(r) != 1 {
		t.Fatalf("%v: %d subscribers routed, want 1", k, len(r))
	}
}

// raceFloor returns the least limit of ix's generations, maxRoutes; under
// the race detector it first makes ix's limits an eighth (floor and limit
// maxRoutes/8, ceiling maxLimit/8), for the tests that scale their streams
// with it: the same proportions, an eighth of the publishes.
func raceFloor(ix *index) int {
	if !raceEnabled {
		return maxRoutes
	}
	ix.mu.Lock()
	ix.limit, ix.floor, ix.ceil = maxRoutes/8, maxRoutes/8, maxLimit/8
	ix.mu.Unlock()
	return maxRoutes / 8
}
