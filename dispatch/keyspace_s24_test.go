package dispatch

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestKeySpaceBounded: the dispatcher's memory is bounded (DESIGN.md,
// "bounded memory") whatever the key space its events name. Venues list
// and delist symbols all day — options and dated futures expire by the
// thousand (Deribit, Binance options, OKX), a relay on NATS publishes what
// its peers send — so a long-lived dispatcher sees streams without end,
// each published a few times and never again. What it keeps per stream
// (a learned route, a subscriber's coalescing slot) must not outlive the
// stream for ever: after a warm-up, publishing to many more streams than
// any host follows at once must not grow the live heap with them.
func TestKeySpaceBounded(t *testing.T) {
	// No -short skip: CI's coverage step (-short) is where the full
	// limits run (an eighth under -race).
	// What the test cost, logged at its end: CPU (all threads), wall and
	// collections. Inside dispatch's whole package binary in CI's no-race
	// step at load ~45 it took 355 s against 23 s alone; at load 11-22
	// the package run and the test alone cost the same (5-6 s CPU, 104
	// and 111 collections of a 12 MB live heap, no goroutine left by an
	// earlier test: goleak guards the package). The log says which of
	// CPU or waiting for a CPU grows when it is slow again.
	startCPU, startWall := cpuTime(), time.Now()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	defer func() {
		var ms1 runtime.MemStats
		runtime.ReadMemStats(&ms1)
		t.Logf("cost: %.1f s CPU (process, all threads), %.1f s wall, %d collections, heap %d MB at the start",
			(cpuTime() - startCPU).Seconds(), time.Since(startWall).Seconds(), ms1.NumGC-ms0.NumGC, ms0.HeapAlloc>>20)
	}()
	p := newEventPool(64)
	d := New(p, nil)
	warm, more, bound := 50_000, 150_000, int64(16<<20)
	if raceEnabled {
		// An eighth of the index's limits (nothing here comes back: the
		// limit stays at its floor), so that fewer streams pass its two
		// generations and the subscribers' slot floor (minSlots) in the
		// warm-up; the bound shrinks with the streams after it.
		// Unbounded, the 32k more streams would keep ~13 MB (routes
		// alone ~9 MB, slots alone ~7 MB), over the 4 MiB bound.
		warm, more, bound = 16_000, 32_000, 4<<20
		raceFloor(d.idx.Load())
	}
	var delivered atomic.Uint64
	handler := func(*schema.CanonicalEvent) { delivered.Add(1) }
	// Two subscribers: one to everything, one to trades and best
	// bid/offers (both lanes, both routes).
	_, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: handler})
	require.NoError(t, err)
	_, err = d.Subscribe(Filter{Types: []schema.EventType{schema.EventBBO, schema.EventTrade}}, &SubscribeOptions{Handler: handler})
	require.NoError(t, err)

	ctx := context.Background()
	var published uint64
	publishRange := func(from, to int) {
		for i := from; i < to; i++ {
			sym := "OPT-" + strconv.Itoa(i)
			for _, typ := range []schema.EventType{schema.EventBBO, schema.EventTrade} {
				ev, err := p.TryGet()
				require.NoError(t, err)
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, sym, typ, 1
				ev.BBO.BidPrice = schema.NewDecimal(int64(i+1), 2)
				require.NoError(t, d.Publish(ctx, ev))
				published += 2 // two subscribers each
			}
			if i%4096 == 0 { // let the subscribers keep up: no queue should be counted
				eventually(t, func() bool { return delivered.Load() == published }, "delivery")
			}
		}
		eventually(t, func() bool { return delivered.Load() == published }, "delivery")
	}
	publishRange(0, warm)
	before := liveHeap()
	publishRange(warm, warm+more)
	after := liveHeap()
	grown := int64(after) - int64(before)
	t.Logf("live heap %d → %d bytes (%+d) over %d more streams", before, after, grown, 2*more)
	// Unbounded, each stream keeps a route (~150 bytes with its key) and
	// a coalescing slot per subscriber (~120): about 60 MB here (13 MB
	// under the race detector).
	require.Less(t, grown, bound, "live heap grew with the streams seen")
	closeDispatcher(t, d)
}

// TestKeySpaceActiveStreamsKeepState: sweeping what went quiet keeps what
// did not. A subscriber that follows more coalescable streams than the
// sweep's floor keeps one slot per live stream (no new slot, so no
// allocation, for a stream that keeps publishing), and routes stay right
// across the index's generations.
func TestKeySpaceActiveStreamsKeepState(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	var delivered atomic.Uint64
	s, err := d.Subscribe(Filter{Types: []schema.EventType{schema.EventBBO}}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) { delivered.Add(1) }})
	require.NoError(t, err)
	other, err := d.Subscribe(Filter{Symbols: []string{"LIVE-0"}}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
	require.NoError(t, err)
	ctx := context.Background()
	const live = 3 * minSlots / 2
	var published uint64
	round := func(prefix string, n int) {
		for i := range n {
			ev, err := p.TryGet()
			require.NoError(t, err)
			ev.Venue, ev.Symbol, ev.Type = bin, prefix+strconv.Itoa(i), schema.EventBBO
			require.NoError(t, d.Publish(ctx, ev))
			published++
			if i%1024 == 0 {
				eventually(t, func() bool { return delivered.Load() == published }, "delivery")
			}
		}
		eventually(t, func() bool { return delivered.Load() == published }, "delivery")
	}
	slotOf := func(sym string) *slot {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.slotOf(routeKey{venue: bin, symbol: sym, typ: schema.EventBBO})
	}
	round("LIVE-", live)
	first := slotOf("LIVE-0")
	require.NotNil(t, first)
	for g := range 8 { // streams come and go between the live ones' rounds
		round("GONE-"+strconv.Itoa(g)+"-", minSlots/2)
		round("LIVE-", live)
	}
	require.Same(t, first, slotOf("LIVE-0"), "a live stream's slot was swept")
	require.Nil(t, slotOf("GONE-0-0"), "no sweep happened: the test tests nothing")
	s.mu.Lock()
	n := len(s.slots)
	s.mu.Unlock()
	require.GreaterOrEqual(t, n, live)
	require.Less(t, n, 4*live, "slots of quiet streams were kept")
	// Past the index's generations: each pass learns 20,480 routes and
	// the live streams' (the first generation fills at 32,768), the
	// index must have flipped (asserted below); the race detector's run
	// makes two passes, not three. (The limits cannot be scaled down
	// here as elsewhere: the live streams must come back within a
	// generation, or the limit rightly doubles.)
	passes := 3
	if raceEnabled {
		passes = 2
	}
	for g := range passes {
		round("MANY-"+strconv.Itoa(g)+"-", maxRoutes/2+minSlots)
		round("LIVE-", live)
	}
	ix := d.idx.Load()
	routes := ix.size()
	ix.mu.Lock()
	flipped := ix.old != nil
	ix.mu.Unlock()
	require.True(t, flipped, "the index never started a new generation: the test tests nothing")
	require.LessOrEqual(t, routes, 2*maxRoutes)
	// Routes learned afresh are still right.
	require.Equal(t, []*Subscription{s, other}, ix.route(routeKey{venue: bin, symbol: "LIVE-0", typ: schema.EventBBO}))
	require.Equal(t, []*Subscription{s}, ix.route(routeKey{venue: bin, symbol: "LIVE-1", typ: schema.EventBBO}))
	closeDispatcher(t, d)
}

// TestSubscribeChurnBounded: subscribing and unsubscribing without end (a
// host that opens a view per order, per UI session) leaves nothing behind:
// neither memory nor goroutines grow with the churn. Routes learned are
// kept across Unsubscribes (s29), and the streams here never publish again
// (a symbol per cycle): the route index holds two generations of them, its
// bound (TestKeySpaceBounded), kept small here so that
// the warm-up fills it and what grows after is what the churn leaves (the
// subscriptions gone, were routes to hold them).
func TestSubscribeChurnBounded(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	ix := d.idx.Load()
	ix.mu.Lock()
	ix.limit, ix.floor, ix.ceil = 1024, 1024, 1024
	ix.mu.Unlock()
	ctx := context.Background()
	keep, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
	require.NoError(t, err)
	cycle := func(n int) {
		for i := range n {
			s, err := d.Subscribe(Filter{Symbols: []string{"S" + strconv.Itoa(i)}}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
			require.NoError(t, err)
			for _, typ := range []schema.EventType{schema.EventBBO, schema.EventTrade, schema.EventExecReport} {
				ev, err := p.TryGet()
				require.NoError(t, err)
				ev.Venue, ev.Symbol, ev.Type = bin, "S"+strconv.Itoa(i), typ
				require.NoError(t, d.Publish(ctx, ev))
			}
			require.NoError(t, d.Unsubscribe(s))
			waitDone(t, s)
		}
	}
	cycle(2000)
	eventually(t, keep.Idle, "idle")
	g0, h0 := runtime.NumGoroutine(), liveHeap()
	// A goroutine left per cycle fails at once; a subscription's memory
	// left per cycle (its struct, filter, channels and lanes: well over
	// 1 KiB) passes the 4 MiB bound within 4,000 cycles, so the race
	// detector's run makes half the cycles.
	cycles := 20000
	if raceEnabled {
		cycles = 10000
	}
	cycle(cycles)
	eventually(t, keep.Idle, "idle")
	// Done is closed just before a subscriber's goroutine returns: the
	// last one may still be counted for a moment (seen on a loaded
	// machine as 53 → 54). A goroutine left per cycle stays for good.
	eventually(t, func() bool { return runtime.NumGoroutine() <= g0 }, "goroutines back to "+strconv.Itoa(g0))
	g1, h1 := runtime.NumGoroutine(), liveHeap()
	t.Logf("goroutines %d → %d, live heap %d → %d", g0, g1, h0, h1)
	require.Less(t, int64(h1)-int64(h0), int64(4<<20), "memory grew with subscribe/unsubscribe churn")
	d.mu.Lock()
	require.Len(t, d.running, 1)
	d.mu.Unlock()
	closeDispatcher(t, d)
}
