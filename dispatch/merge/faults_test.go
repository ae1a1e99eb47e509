package merge

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

func connState(v schema.Venue, st schema.ConnState, ingest int64) *schema.CanonicalEvent {
	return &schema.CanonicalEvent{Venue: v, Type: schema.EventConnState, IngestTS: ingest,
		Control: &schema.Control{Kind: schema.ControlConnState, State: st}}
}

func bboAt(v schema.Venue, bid, ask string, ingest int64) *schema.CanonicalEvent {
	ev := bbo(v, bid, ask)
	ev.IngestTS = ingest
	return ev
}

// A venue leaves the consolidated view on every connection state but
// connected — the ones wsclient sends, ConnClosed among them, and any this
// version does not know — and its quotes are refused until it is connected
// again; a quote still queued from before the reconnection is refused too,
// a fresh one brings the venue back.
func TestContinuousVenueLeavesOnAnyStateButConnected(t *testing.T) {
	for _, st := range []schema.ConnState{
		schema.ConnUnknown, schema.ConnConnecting, schema.ConnDisconnected, schema.ConnReconnecting,
		schema.ConnRotating, schema.ConnClosed, schema.ConnState(200),
	} {
		t.Run(st.String(), func(t *testing.T) {
			r := newRig(t, Options{Mode: Continuous})
			ctx := context.Background()
			base := t0.UnixNano()
			require.NoError(t, r.m.Add(ctx, bboAt(schema.VenueOKX, "99", "102", base)))
			r.next(t)
			require.NoError(t, r.m.Add(ctx, bboAt(schema.VenueBinance, "100", "101", base+1)))
			c := r.next(t)
			require.Equal(t, schema.VenueBinance, c.BestBidVenue)
			require.True(t, c.Complete)

			require.NoError(t, r.m.Add(ctx, connState(schema.VenueBinance, st, base+10)))
			c = r.next(t)
			require.Equal(t, schema.VenueOKX, c.BestBidVenue, "binance left on %s", st)
			require.Equal(t, "102", c.BestAsk.String())
			require.Equal(t, []schema.Venue{schema.VenueBinance}, c.Missing)
			require.Equal(t, uint64(1), r.m.Stats().Invalidated)

			// Quotes while not connected, and queued from before the
			// reconnection, are refused.
			require.NoError(t, r.m.Add(ctx, bboAt(schema.VenueBinance, "100", "101", base+11)))
			r.none(t)
			require.NoError(t, r.m.Add(ctx, connState(schema.VenueBinance, schema.ConnConnected, base+20)))
			r.none(t)
			require.NoError(t, r.m.Add(ctx, bboAt(schema.VenueBinance, "100", "101", base+12)))
			r.none(t)
			require.Equal(t, uint64(2), r.m.Stats().Refused)

			// Fresh data after the reconnection: binance is back.
			require.NoError(t, r.m.Add(ctx, bboAt(schema.VenueBinance, "100.5", "101", base+21)))
			c = r.next(t)
			require.Equal(t, schema.VenueBinance, c.BestBidVenue)
			require.Equal(t, "100.5", c.BestBid.String())
			require.True(t, c.Complete)
		})
	}
}

// A venue that leaves without changing the top still changes the view
// (Missing, Complete): it is published.
func TestContinuousVenueLeavingBelowTheTop(t *testing.T) {
	r := newRig(t, Options{Mode: Continuous})
	ctx := context.Background()
	require.NoError(t, r.m.Add(ctx, bbo(schema.VenueBinance, "100", "101")))
	r.next(t)
	require.NoError(t, r.m.Add(ctx, bbo(schema.VenueOKX, "99", "102")))
	require.True(t, r.next(t).Complete)
	require.NoError(t, r.m.Add(ctx, connState(schema.VenueOKX, schema.ConnClosed, 0)))
	c := r.next(t)
	require.Equal(t, "100", c.BestBid.String())
	require.Equal(t, []schema.Venue{schema.VenueOKX}, c.Missing)
}

// exhaustible is a merger on a dispatcher whose Merged pool the test can
// empty and refill.
type exhaustible struct {
	*rig
	merged *pool.Pool[*schema.MergedEvent]
	held   []*schema.MergedEvent
}

func newExhaustible(t *testing.T, o Options) *exhaustible {
	t.Helper()
	e := &exhaustible{rig: &rig{pools: schema.NewPools(nil), clk: &clock{t: t0}}}
	e.merged = pool.New("merged-small", 4, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	e.d = dispatch.New(e.pools.Events, &dispatch.Options{Merged: e.merged})
	var err error
	e.sub, err = e.d.SubscribeMerged(dispatch.MergedFilter{}, &dispatch.MergedOptions{Bound: 1 << 12})
	require.NoError(t, err)
	o.Symbol = "BTC-USDT"
	o.Venues = []schema.Venue{schema.VenueBinance, schema.VenueOKX}
	o.Sink, o.Merged, o.Now = e.d, e.merged, e.clk.now
	e.m, err = New(&o)
	require.NoError(t, err)
	t.Cleanup(func() {
		e.refill()
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		drained := make(chan struct{})
		go func() {
			for range e.sub.C() {
			}
			close(drained)
		}()
		require.NoError(t, e.d.Close(ctx))
		<-drained
		require.NoError(t, e.pools.Shutdown(ctx))
		require.Zero(t, e.merged.Stats().InUse, "every merged event came back")
	})
	return e
}

func (e *exhaustible) exhaust(t *testing.T) {
	t.Helper()
	for {
		m, err := e.merged.TryGet()
		if err != nil {
			return
		}
		e.held = append(e.held, m)
	}
}

func (e *exhaustible) refill() {
	for _, m := range e.held {
		e.merged.Put(m)
	}
	e.held = nil
}

// No consolidated view is lost for good: one that finds the pool exhausted
// is counted, not recorded as published, and the next Tick or update —
// even one that changes nothing — publishes the latest.
func TestContinuousNoViewLostForGood(t *testing.T) {
	for _, by := range []string{"tick", "unchanged update"} {
		t.Run(by, func(t *testing.T) {
			e := newExhaustible(t, Options{Mode: Continuous})
			ctx := context.Background()
			require.NoError(t, e.m.Add(ctx, bbo(schema.VenueBinance, "100", "101")))
			require.Equal(t, "100", e.next(t).BestBid.String())

			e.exhaust(t)
			require.NoError(t, e.m.Add(ctx, bbo(schema.VenueBinance, "100.5", "101")))
			require.NoError(t, e.m.Add(ctx, bbo(schema.VenueOKX, "100.7", "101.2")))
			require.NoError(t, e.m.Tick(ctx))
			e.none(t)
			require.Equal(t, uint64(3), e.m.Stats().PoolDropped)

			e.refill()
			if by == "tick" {
				require.NoError(t, e.m.Tick(ctx))
			} else {
				require.NoError(t, e.m.Add(ctx, bbo(schema.VenueOKX, "100.7", "101.2")))
			}
			c := e.next(t)
			require.Equal(t, "100.7", c.BestBid.String())
			require.Equal(t, schema.VenueOKX, c.BestBidVenue)
			require.Equal(t, "101", c.BestAsk.String())
			require.True(t, c.Complete)
			require.NoError(t, e.m.Tick(ctx))
			e.none(t)
		})
	}
}

// A closed window that finds the pool exhausted waits and is published by
// the next Tick, Add or Flush; when a newer window closes meanwhile, the
// older is lost (counted) and the newer carries its late count.
func TestWindowedNoWindowLostForGood(t *testing.T) {
	e := newExhaustible(t, Options{Mode: Windowed, Window: time.Second})
	ctx := context.Background()
	e.exhaust(t)
	require.NoError(t, e.m.Add(ctx, trade(schema.VenueBinance, 0, "100")))
	require.NoError(t, e.m.Add(ctx, trade(schema.VenueOKX, 1500*time.Millisecond, "101")))
	e.none(t)
	require.Equal(t, uint64(1), e.m.Stats().PoolDropped)
	e.refill()
	require.NoError(t, e.m.Tick(ctx))
	w := e.next(t)
	require.Equal(t, uint64(1), w.MergeID)
	require.Len(t, w.Fragments, 1)
	require.Equal(t, t0.Add(time.Second).UnixNano(), w.WindowClose)

	// Two windows close while the pool is empty: the older is lost.
	e.exhaust(t)
	require.NoError(t, e.m.Add(ctx, trade(schema.VenueBinance, 100*time.Millisecond, "99")), "late")
	require.NoError(t, e.m.Add(ctx, trade(schema.VenueBinance, 2600*time.Millisecond, "102")))
	require.NoError(t, e.m.Add(ctx, trade(schema.VenueOKX, 3700*time.Millisecond, "103")))
	e.none(t)
	e.refill()
	require.NoError(t, e.m.Add(ctx, trade(schema.VenueOKX, 3800*time.Millisecond, "104")))
	w = e.next(t)
	require.Equal(t, uint64(3), w.MergeID, "window 2 was lost")
	require.Equal(t, t0.Add(2600*time.Millisecond).UnixNano(), w.WindowOpen)
	require.Equal(t, uint64(1), w.LateDropped, "the late count of the lost window goes on")
	st := e.m.Stats()
	require.Equal(t, uint64(1), st.WindowsLost)
	require.Equal(t, uint64(2), st.Published)

	e.clk.set(t0.Add(10 * time.Second))
	require.NoError(t, e.m.Flush(ctx))
	w = e.next(t)
	require.Equal(t, uint64(4), w.MergeID)
	require.Len(t, w.Fragments, 2)
}

// A window closed by MaxEvents holds exactly the fragments of its range,
// out-of-order ones included, and never closes before it opens.
func TestWindowedByCountHoldsItsRange(t *testing.T) {
	r := newRig(t, Options{Mode: Windowed, MaxEvents: 3})
	ctx := context.Background()
	ms := time.Millisecond
	require.NoError(t, r.m.Add(ctx, trade(schema.VenueBinance, 100*ms, "1")))
	require.NoError(t, r.m.Add(ctx, trade(schema.VenueOKX, 90*ms, "2")), "out of order, before any closed window: moves the open back")
	require.NoError(t, r.m.Add(ctx, trade(schema.VenueOKX, 95*ms, "3")))
	w := r.next(t)
	require.Equal(t, t0.Add(90*ms).UnixNano(), w.WindowOpen)
	require.Equal(t, t0.Add(100*ms).UnixNano(), w.WindowClose)
	require.Len(t, w.Fragments, 2)
	for _, f := range w.Fragments {
		require.True(t, f.ExchangeTS >= w.WindowOpen && f.ExchangeTS < w.WindowClose)
	}
	// A burst of one time: the window of MaxEvents same-time fragments
	// closes just after it; later ones of that time are late.
	require.NoError(t, r.m.Add(ctx, trade(schema.VenueBinance, 100*ms, "4")))
	require.NoError(t, r.m.Add(ctx, trade(schema.VenueOKX, 100*ms, "5")))
	w = r.next(t)
	require.Len(t, w.Fragments, 3)
	require.Equal(t, t0.Add(100*ms).UnixNano(), w.WindowOpen)
	require.Equal(t, t0.Add(100*ms).UnixNano()+1, w.WindowClose)
	require.NoError(t, r.m.Add(ctx, trade(schema.VenueOKX, 100*ms, "6")))
	require.NoError(t, r.m.Add(ctx, trade(schema.VenueOKX, 99*ms, "7")))
	require.Equal(t, uint64(2), r.m.Stats().LateDropped)
	r.none(t)
}

// Windows hold exactly the fragments of their range, whatever the order of
// arrival, the count bound, ticks and flushes: every fragment added is in
// exactly one window, inside [WindowOpen, WindowClose), or counted late;
// windows follow one another without overlap; every one passes Validate.
func TestWindowedPropertyExactRanges(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 19))
		venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueKraken}
		var mu sync.Mutex
		var got []*schema.MergedEvent
		pools := schema.NewPools(nil)
		d := dispatch.New(pools.Events, &dispatch.Options{Merged: pools.Merged})
		_, err := d.SubscribeMerged(dispatch.MergedFilter{}, &dispatch.MergedOptions{Bound: 1 << 16, Handler: func(m *schema.MergedEvent) {
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
		}})
		require.NoError(t, err)
		clk := &clock{t: t0}
		m, err := New(&Options{Symbol: "BTC-USDT", Venues: venues, Mode: Windowed, Sink: d, Merged: pools.Merged, Now: clk.now,
			Window: time.Duration(1+rng.IntN(50)) * time.Millisecond, MaxEvents: 1 + rng.IntN(12)})
		require.NoError(t, err)
		ctx := context.Background()
		const n = 600
		at := time.Duration(0)
		for i := range n {
			// Mostly forward, sometimes back (out of order), sometimes the
			// same time (bursts).
			switch k := rng.IntN(10); {
			case k < 5:
				at += time.Duration(rng.IntN(3000)) * time.Microsecond
			case k < 8:
				at -= time.Duration(rng.IntN(8000)) * time.Microsecond
			}
			ev := trade(venues[rng.IntN(len(venues))], at, "1")
			ev.SeqProvider = uint64(i + 1)
			require.NoError(t, m.Add(ctx, ev))
			switch rng.IntN(40) {
			case 0:
				clk.set(t0.Add(at + time.Duration(rng.IntN(60))*time.Millisecond))
				require.NoError(t, m.Tick(ctx))
			case 1:
				clk.set(t0.Add(at + time.Duration(rng.IntN(5))*time.Millisecond))
				require.NoError(t, m.Flush(ctx))
			}
		}
		clk.set(t0.Add(at + time.Hour))
		require.NoError(t, m.Flush(ctx))
		st := m.Stats()
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return uint64(len(got)) == st.Published
		}, patience, time.Millisecond)
		require.NoError(t, d.Close(ctx))
		require.NoError(t, pools.Shutdown(ctx))

		seen := map[uint64]bool{}
		var prevClose int64
		for _, w := range got {
			require.NoError(t, w.Validate(), "seed %d", seed)
			require.Less(t, w.WindowOpen, w.WindowClose, "seed %d", seed)
			require.GreaterOrEqual(t, w.WindowOpen, prevClose, "seed %d: windows overlap", seed)
			prevClose = w.WindowClose
			for _, f := range w.Fragments {
				require.GreaterOrEqual(t, f.ExchangeTS, w.WindowOpen, "seed %d", seed)
				require.Less(t, f.ExchangeTS, w.WindowClose, "seed %d", seed)
				require.False(t, seen[f.Seq], "seed %d: fragment %d in two windows", seed, f.Seq)
				seen[f.Seq] = true
			}
		}
		require.Equal(t, uint64(n), st.Fragments+st.LateDropped, "seed %d", seed)
		require.Equal(t, int(st.Fragments), len(seen), "seed %d: every fragment taken is published", seed)
		require.Equal(t, st.Windows, st.Published, "seed %d", seed)
	}
}

// The Logger sees state changes at Info and losses at Warn, with
// structured keys, and nothing per event.
func TestMergerLogs(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	lines := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Split(strings.TrimSpace(buf.String()), "\n")
	}
	e := newExhaustible(t, Options{Mode: Continuous, Logger: log})
	ctx := context.Background()
	for i := range 100 {
		q := "100"
		if i%2 == 1 {
			q = "100.5"
		}
		require.NoError(t, e.m.Add(ctx, bbo(schema.VenueBinance, q, "101")))
	}
	require.Equal(t, uint64(100), e.m.Stats().Published)
	require.Empty(t, strings.TrimSpace(buf.String()), "nothing per event")

	require.NoError(t, e.m.Add(ctx, connState(schema.VenueBinance, schema.ConnClosed, 0)))
	e.exhaust(t)
	for range 10 {
		require.NoError(t, e.m.Add(ctx, connState(schema.VenueBinance, schema.ConnConnected, 0)))
		require.NoError(t, e.m.Add(ctx, bbo(schema.VenueBinance, "100", "101")))
		require.NoError(t, e.m.Add(ctx, bbo(schema.VenueBinance, "100.1", "101")))
	}
	e.refill()
	require.NoError(t, e.m.Tick(ctx))
	l := lines()
	require.Len(t, l, 5, "%q", l)
	require.Contains(t, l[0], `level=INFO msg="merge: venue not connected`)
	require.Contains(t, l[0], "symbol=BTC-USDT venue=binance state=closed")
	require.Contains(t, l[1], `level=INFO msg="merge: venue leaves the consolidated view" symbol=BTC-USDT venue=binance reason="connection closed"`)
	require.Contains(t, l[2], `level=INFO msg="merge: venue connected again`)
	require.Contains(t, l[3], `level=WARN msg="merge: Merged pool exhausted`)
	require.Contains(t, l[4], `level=INFO msg="merge: Merged pool available again" symbol=BTC-USDT pool_dropped=20`)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// flakySink refuses the first refuse events it is given (returning them to
// their pool, as a Sink must), then hands the rest to next.
type flakySink struct {
	refuse int
	merged *pool.Pool[*schema.MergedEvent]
	next   Sink
}

var errRefused = errors.New("refused")

func (s *flakySink) PublishMerged(ctx context.Context, m *schema.MergedEvent) error {
	if s.refuse > 0 {
		s.refuse--
		s.merged.Put(m)
		return errRefused
	}
	return s.next.PublishMerged(ctx, m)
}

// A view or window the sink refuses is not recorded as published: the next
// Tick publishes the latest.
func TestSinkRefusalRetried(t *testing.T) {
	for _, mode := range []Mode{Continuous, Windowed} {
		t.Run(map[Mode]string{Continuous: "continuous", Windowed: "windowed"}[mode], func(t *testing.T) {
			r := newRig(t, Options{Mode: mode, Window: time.Second})
			sink := &flakySink{refuse: 2, merged: r.pools.Merged, next: r.d}
			r.m.o.Sink = sink
			ctx := context.Background()
			if mode == Continuous {
				require.ErrorIs(t, r.m.Add(ctx, bbo(schema.VenueBinance, "100", "101")), errRefused)
				require.ErrorIs(t, r.m.Tick(ctx), errRefused)
				r.none(t)
				require.NoError(t, r.m.Tick(ctx))
				require.Equal(t, "100", r.next(t).BestBid.String())
			} else {
				require.NoError(t, r.m.Add(ctx, trade(schema.VenueBinance, 0, "100")))
				require.ErrorIs(t, r.m.Add(ctx, trade(schema.VenueOKX, 1500*time.Millisecond, "101")), errRefused)
				require.ErrorIs(t, r.m.Tick(ctx), errRefused)
				r.none(t)
				require.NoError(t, r.m.Tick(ctx))
				w := r.next(t)
				require.Len(t, w.Fragments, 1)
				require.Equal(t, uint64(1), w.MergeID)
			}
			require.Equal(t, uint64(1), r.m.Stats().Published)
			require.NoError(t, r.m.Tick(ctx))
			r.none(t)
		})
	}
}
