package merge

// Adversarial tests, second round (reviewer R4), written apart from the
// implementation: windows against the package documentation's promises,
// with fragments timed by IngestTS alone, mixed with venue times, edge
// times (0, negative, the ends of int64), out-of-order arrivals and every
// way a window closes.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// tradeAt is a trade whose event time is ts: the venue's time, or, when
// viaIngest, the receive time with no venue time at all.
func tradeAt(v schema.Venue, ts int64, seq uint64, viaIngest bool) *schema.CanonicalEvent {
	ev := &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventTrade, SeqProvider: seq,
		Trade: schema.Trade{Price: schema.MustParseDecimal("1"), Qty: schema.MustParseDecimal("1")}}
	if viaIngest {
		ev.IngestTS = ts
	} else {
		ev.ExchangeTS, ev.IngestTS = ts, ts+int64(time.Millisecond) // the receive time is never the window's
	}
	return ev
}

// checkWindows holds the published windows to the documented promises:
// each passes Validate (which holds every fragment inside its window), has
// a positive length, and the windows follow each other without overlap.
// It returns the fragments published, by (venue, seq).
func checkWindows(t *testing.T, got []*schema.MergedEvent, venues []schema.Venue, what string) map[[2]uint64]int {
	t.Helper()
	seen := map[[2]uint64]int{}
	var prevClose int64 = math.MinInt64
	for i, w := range got {
		require.NoError(t, w.Validate(), "%s: window %d", what, i)
		require.Less(t, w.WindowOpen, w.WindowClose, "%s: window %d is empty or reversed", what, i)
		require.GreaterOrEqual(t, w.WindowOpen, prevClose, "%s: window %d overlaps the one before", what, i)
		prevClose = w.WindowClose
		have := map[schema.Venue]bool{}
		for _, f := range w.Fragments {
			ts := f.Time()
			require.True(t, ts >= w.WindowOpen && ts < w.WindowClose, "%s: window %d [%d, %d) holds a fragment at %d",
				what, i, w.WindowOpen, w.WindowClose, ts)
			have[f.Venue] = true
			vi := uint64(0)
			for j, v := range venues {
				if v == f.Venue {
					vi = uint64(j)
				}
			}
			seen[[2]uint64{vi, f.Seq}]++
		}
		var missing []schema.Venue
		for _, v := range venues {
			if !have[v] {
				missing = append(missing, v)
			}
		}
		require.ElementsMatch(t, missing, w.Missing, "%s: window %d names the wrong venues missing", what, i)
		require.Equal(t, len(missing) == 0, w.Complete, "%s: window %d", what, i)
	}
	return seen
}

// Every fragment added is exactly one of: published in one window, counted
// late, or counted a duplicate — whatever the mix of venue and receive
// times, arrival order and closes by time, count, Tick and Flush. Nothing
// is published twice or lost uncounted, and every window holds exactly its
// range.
func TestAdversarial2WindowConservation(t *testing.T) {
	t.Parallel()
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueKraken}
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 4242))
		mp := pool.New("merged", 4, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
		sink := &copySink{p: mp}
		clk := &clock{t: t0}
		window := time.Duration(1+rng.IntN(10)) * time.Millisecond
		maxEvents := 1 + rng.IntN(8)
		m, err := New(&Options{Symbol: "BTC-USDT", Venues: venues, Mode: Windowed, Sink: sink, Merged: mp,
			Now: clk.now, Window: window, MaxEvents: maxEvents})
		require.NoError(t, err)
		ctx := context.Background()
		base := t0.UnixNano()
		at := int64(0)
		added := map[[2]uint64]bool{}
		seq := uint64(0)
		for range 600 {
			switch j := rng.IntN(10); {
			case j < 4:
				at += rng.Int64N(int64(2 * time.Millisecond))
			case j < 6:
				at -= rng.Int64N(int64(3 * time.Millisecond))
			case j == 6:
				// A burst at one time, more than a window holds.
			}
			burst := 1
			if rng.IntN(10) == 0 {
				burst = maxEvents + rng.IntN(3)
			}
			for range burst {
				seq++
				vi := rng.IntN(len(venues))
				ev := tradeAt(venues[vi], base+at, seq, rng.IntN(3) == 0)
				added[[2]uint64{uint64(vi), seq}] = true
				require.NoError(t, m.Add(ctx, ev))
			}
			switch rng.IntN(25) {
			case 0:
				clk.set(time.Unix(0, base+at+rng.Int64N(int64(3*window))))
				require.NoError(t, m.Tick(ctx))
			case 1:
				clk.set(time.Unix(0, base+at-rng.Int64N(int64(window))))
				require.NoError(t, m.Flush(ctx))
			}
		}
		clk.set(time.Unix(0, base+at+int64(time.Hour)))
		require.NoError(t, m.Flush(ctx))

		what := "seed " + time.Duration(seed).String()
		seen := checkWindows(t, sink.got, venues, what)
		st := m.Stats()
		for k, n := range seen {
			require.Equal(t, 1, n, "%s: fragment %v published %d times", what, k, n)
			require.True(t, added[k], "%s: fragment %v never added", what, k)
		}
		require.Equal(t, st.Fragments, uint64(len(seen)), "%s: fragments taken but not published", what)
		require.Equal(t, uint64(len(added)), st.Fragments+st.LateDropped+st.Duplicates, "%s: fragments unaccounted for", what)
		require.Equal(t, st.Windows, st.Published, "%s", what)
		var late uint64
		for _, w := range sink.got {
			late += w.LateDropped
		}
		require.LessOrEqual(t, late, st.LateDropped, "%s", what)
		require.NoError(t, mp.Shutdown(ctx))
	}
}

// Edge times: 0, negative (before 1970), and the top of int64, where
// "time + Window" and "time + 1" do not fit. A window is still never
// reversed or empty, and holds exactly its fragments; nothing panics.
func TestAdversarial2WindowEdgeTimes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ts   []int64
	}{
		{"zero", []int64{0, 0, 0, 1, 0}},
		{"negative", []int64{-5e9, -4e9, -5e9 - 1, -3e9}},
		{"around zero", []int64{-1, 0, 1, -2, 2}},
		{"top of int64", []int64{math.MaxInt64 - 3, math.MaxInt64 - 1, math.MaxInt64, math.MaxInt64, math.MaxInt64}},
		{"top, one time", []int64{math.MaxInt64, math.MaxInt64, math.MaxInt64, math.MaxInt64}},
		{"near top", []int64{math.MaxInt64 - int64(time.Second), math.MaxInt64 - 10, math.MaxInt64}},
	} {
		for _, maxEvents := range []int{1, 2, 3, 1000} {
			t.Run(tc.name, func(t *testing.T) {
				venues := []schema.Venue{schema.VenueBinance}
				mp := pool.New("merged", 2, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
				sink := &copySink{p: mp}
				clk := &clock{t: t0}
				m, err := New(&Options{Symbol: "BTC-USDT", Venues: venues, Mode: Windowed, Sink: sink, Merged: mp,
					Now: clk.now, Window: 10 * time.Second, MaxEvents: maxEvents})
				require.NoError(t, err)
				ctx := context.Background()
				for i, ts := range tc.ts {
					require.NoError(t, m.Add(ctx, tradeAt(schema.VenueBinance, ts, uint64(i+1), false)))
					clk.set(time.Unix(0, ts)) // the clock follows the venue's
					require.NoError(t, m.Tick(ctx))
				}
				clk.set(time.Unix(0, math.MaxInt64))
				require.NoError(t, m.Flush(ctx))
				seen := checkWindows(t, sink.got, venues, tc.name)
				st := m.Stats()
				require.Equal(t, st.Fragments, uint64(len(seen)), "fragments taken but never published: %+v", st)
				require.Equal(t, uint64(len(tc.ts)), st.Fragments+st.LateDropped+st.Duplicates, "%+v", st)
				if maxEvents == 1000 && !slices.Contains(tc.ts, math.MaxInt64) {
					// Every time lies within one Window of the first and
					// no window closed before Flush: nothing can be late.
					// (A fragment at math.MaxInt64, which no window
					// [open, close) holds, is counted late.)
					require.Zero(t, st.LateDropped, "a fragment counted late though no window had closed: %+v", st)
				}
				require.NoError(t, mp.Shutdown(ctx))
			})
		}
	}
}

// Windows of best bid/offers (Options.Type schema.EventBBO, a coalescable
// type) and the consolidated view of the same symbol share one merged
// lane: a subscriber that reads only after the fact gets the latest view
// and every window (or their drops counted), never a window in the view's
// place or a view in a window's.
func TestAdversarial2QuoteWindowsBesideTheView(t *testing.T) {
	t.Parallel()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, &dispatch.Options{Merged: pools.Merged})
	sub, err := d.SubscribeMerged(dispatch.MergedFilter{}, &dispatch.MergedOptions{Bound: 64})
	require.NoError(t, err)
	clk := &clock{t: t0}
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX}
	windowed, err := New(&Options{Symbol: "BTC-USDT", Venues: venues, Mode: Windowed, Type: schema.EventBBO,
		MaxEvents: 2, Sink: d, Merged: pools.Merged, Now: clk.now})
	require.NoError(t, err)
	view, err := New(&Options{Symbol: "BTC-USDT", Venues: venues, Mode: Continuous, Sink: d, Merged: pools.Merged, Now: clk.now})
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 10 {
		ev := bbo(venues[i%2], fmt.Sprintf("%d", 100+i), fmt.Sprintf("%d", 200+i))
		ev.ExchangeTS = t0.Add(time.Duration(i) * time.Millisecond).UnixNano()
		require.NoError(t, windowed.Add(ctx, ev))
		require.NoError(t, view.Add(ctx, ev))
	}
	require.NoError(t, windowed.Flush(ctx))
	cctx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	require.NoError(t, d.Close(cctx))
	var views, windows []*schema.MergedEvent
	for m := range sub.C() {
		require.NoError(t, m.Validate())
		if m.WindowOpen == m.WindowClose {
			views = append(views, m)
		} else {
			windows = append(windows, m)
		}
	}
	require.NotEmpty(t, views, "the consolidated view was replaced by a window")
	last := views[len(views)-1]
	require.Equal(t, "109", last.BestBid.String(), "the latest view")
	require.Equal(t, "208", last.BestAsk.String())
	require.Equal(t, int(windowed.Stats().Published), len(windows)+int(sub.Stats().Dropped),
		"windows replaced by views or by each other, uncounted")
	require.NoError(t, pools.Shutdown(cctx))
}

// randomRefuser refuses every few events (it still takes ownership, as Sink
// requires: the pooled event goes back to its pool) and otherwise keeps a
// copy.
type randomRefuser struct {
	p      *pool.Pool[*schema.MergedEvent]
	rng    *rand.Rand
	got    []*schema.MergedEvent
	refuse int
}

var errRandomRefusal = errors.New("sink refused")

func (s *randomRefuser) PublishMerged(_ context.Context, m *schema.MergedEvent) error {
	defer s.p.Put(m)
	if s.rng.IntN(4) == 0 {
		s.refuse++
		return errRandomRefusal
	}
	s.got = append(s.got, m.Clone())
	return nil
}

// Under a sink that refuses now and then, a Merged pool of one object
// that the test keeps taking, and suppressed incomplete windows, every
// closed window is published, suppressed or counted lost — once — and
// every published window holds exactly its range; the pool is whole at the
// end.
func TestAdversarial2WindowAccountsUnderRefusalsAndSuppression(t *testing.T) {
	t.Parallel()
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX}
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 99))
		mp := pool.New("merged", 1, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
		sink := &randomRefuser{p: mp, rng: rand.New(rand.NewPCG(seed, 1))}
		clk := &clock{t: t0}
		m, err := New(&Options{Symbol: "BTC-USDT", Venues: venues, Mode: Windowed, Sink: sink, Merged: mp, Now: clk.now,
			Window: time.Duration(1+rng.IntN(5)) * time.Millisecond, MaxEvents: 1 + rng.IntN(5), Incomplete: Incomplete(rng.IntN(2))})
		require.NoError(t, err)
		ctx := context.Background()
		var held *schema.MergedEvent
		at := t0.UnixNano()
		for i := range 400 {
			at += rng.Int64N(int64(2*time.Millisecond)) - int64(300*time.Microsecond)
			err := m.Add(ctx, tradeAt(venues[rng.IntN(len(venues))], at, uint64(i+1), rng.IntN(2) == 0))
			if err != nil {
				require.ErrorIs(t, err, errRandomRefusal)
			}
			switch rng.IntN(10) {
			case 0:
				clk.set(time.Unix(0, at+rng.Int64N(int64(10*time.Millisecond))))
				if err := m.Tick(ctx); err != nil {
					require.ErrorIs(t, err, errRandomRefusal)
				}
			case 1, 2:
				if held == nil {
					held, _ = mp.TryGet()
				} else {
					mp.Put(held)
					held = nil
				}
			}
		}
		if held != nil {
			mp.Put(held)
		}
		clk.set(time.Unix(0, at+int64(time.Hour)))
		for range 100 { // until the sink takes the last window
			if m.Flush(ctx) == nil {
				break
			}
		}
		st := m.Stats()
		require.Equal(t, uint64(len(sink.got)), st.Published, "seed %d", seed)
		require.Equal(t, st.Windows, st.Published+st.Suppressed+st.WindowsLost,
			"seed %d: closed windows neither published, suppressed nor lost: %+v", seed, st)
		checkWindows(t, sink.got, venues, "seed")
		require.Zero(t, mp.Stats().InUse, "seed %d", seed)
		require.NoError(t, mp.Shutdown(ctx))
	}
}
