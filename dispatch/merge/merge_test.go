package merge

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// clock is a clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// rig is a real dispatcher with a merged subscription reading what the
// merger publishes.
type rig struct {
	pools *schema.Pools
	d     *dispatch.Dispatcher
	sub   *dispatch.MergedSubscription
	m     *Merger
	clk   *clock
}

func newRig(t *testing.T, o Options) *rig {
	t.Helper()
	r := &rig{pools: schema.NewPools(nil), clk: &clock{t: t0}}
	r.d = dispatch.New(r.pools.Events, &dispatch.Options{Merged: r.pools.Merged})
	var err error
	r.sub, err = r.d.SubscribeMerged(dispatch.MergedFilter{Symbols: []string{"BTC-USDT"}}, &dispatch.MergedOptions{Bound: 1 << 12})
	require.NoError(t, err)
	o.Symbol = "BTC-USDT"
	if o.Venues == nil {
		o.Venues = []schema.Venue{schema.VenueBinance, schema.VenueOKX}
	}
	o.Sink, o.Merged, o.Now = r.d, r.pools.Merged, r.clk.now
	r.m, err = New(&o)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		require.NoError(t, r.d.Close(ctx))
		for range r.sub.C() {
		}
		require.NoError(t, r.pools.Shutdown(ctx))
	})
	return r
}

// next returns the next merged event, waiting for it.
func (r *rig) next(t *testing.T) *schema.MergedEvent {
	t.Helper()
	select {
	case m := <-r.sub.C():
		require.NoError(t, m.Validate())
		return m
	case <-time.After(patience):
		t.Fatal("no merged event")
		return nil
	}
}

// none asserts that nothing is queued for the subscriber: the merger
// publishes synchronously, so whatever it made is queued already.
func (r *rig) none(t *testing.T) {
	t.Helper()
	require.Zero(t, r.sub.Stats().Depth)
	select {
	case m := <-r.sub.C():
		t.Fatalf("unexpected merged event %+v", m)
	default:
	}
}

func trade(v schema.Venue, at time.Duration, price string) *schema.CanonicalEvent {
	return &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventTrade, ExchangeTS: t0.Add(at).UnixNano(),
		Trade: schema.Trade{Price: schema.MustParseDecimal(price), Qty: schema.MustParseDecimal("1")}}
}

func bbo(v schema.Venue, bid, ask string) *schema.CanonicalEvent {
	return &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventBBO,
		BBO: schema.BBO{BidPrice: schema.MustParseDecimal(bid), BidQty: schema.MustParseDecimal("1"), AskPrice: schema.MustParseDecimal(ask), AskQty: schema.MustParseDecimal("2")}}
}

// Windows by time: a window opens on its first fragment, closes 10 s of
// event time later when a newer fragment or a Tick comes; a fragment for a
// closed window is late (dropped, counted, reported by the next window);
// a window without OKX is flagged incomplete.
func TestWindowedByTime(t *testing.T) {
	r := newRig(t, Options{Mode: Windowed})
	ctx := context.Background()
	require.NoError(t, r.m.Add(ctx, trade(schema.VenueBinance, 0, "100")))
	require.NoError(t, r.m.Add(ctx, trade(schema.VenueOKX, time.Second, "101")))
	require.NoError(t, r.m.Add(ctx, bbo(schema.VenueOKX, "1", "2")), "another type: ignored")
	require.NoError(t, r.m.Add(ctx, trade(schema.VenueKraken, 2*time.Second, "99")), "a venue not expected: ignored")
	require.NoError(t, r.m.Add(ctx, trade(schema.VenueBinance, 5*time.Second, "102")))
	r.clk.set(t0.Add(9 * time.Second))
	require.NoError(t, r.m.Tick(ctx))
	r.none(t)

	require.NoError(t, r.m.Add(ctx, trade(schema.VenueBinance, 11*time.Second, "103")))
	w := r.next(t)
	require.Equal(t, uint64(1), w.MergeID)
	require.Equal(t, schema.EventTrade, w.Type)
	require.True(t, w.Complete)
	require.Empty(t, w.Missing)
	require.Len(t, w.Fragments, 3)
	require.Equal(t, t0.UnixNano(), w.WindowOpen)
	require.Equal(t, t0.Add(10*time.Second).UnixNano(), w.WindowClose)
	require.Equal(t, "101", w.Fragments[1].Price.String())
	require.Equal(t, schema.VenueOKX, w.Fragments[1].Venue)

	require.NoError(t, r.m.Add(ctx, trade(schema.VenueOKX, 9*time.Second, "100.5")), "late: its window closed")
	r.clk.set(t0.Add(21 * time.Second))
	require.NoError(t, r.m.Tick(ctx))
	w = r.next(t)
	require.False(t, w.Complete)
	require.Equal(t, []schema.Venue{schema.VenueOKX}, w.Missing)
	require.Equal(t, uint64(1), w.LateDropped)
	require.Len(t, w.Fragments, 1)
	st := r.m.Stats()
	require.Equal(t, uint64(1), st.LateDropped)
	require.Equal(t, uint64(2), st.Windows)
	require.Equal(t, uint64(1), st.Incomplete)
	require.NoError(t, r.m.Flush(ctx), "nothing open")
	r.none(t)
}

// Windows by count, and incomplete windows suppressed. A window full at
// MaxEvents closes at the time of its latest fragment, which opens the next
// window.
func TestWindowedByCountAndSuppress(t *testing.T) {
	r := newRig(t, Options{Mode: Windowed, MaxEvents: 3, Incomplete: Suppress})
	ctx := context.Background()
	for i, v := range []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBinance} {
		require.NoError(t, r.m.Add(ctx, trade(v, time.Duration(i)*time.Millisecond, "100")))
	}
	w := r.next(t)
	require.Len(t, w.Fragments, 2)
	require.True(t, w.Complete)
	require.Equal(t, t0.UnixNano(), w.WindowOpen)
	require.Equal(t, t0.Add(2*time.Millisecond).UnixNano(), w.WindowClose)
	// Binance alone: suppressed, whether closed by count or by Flush.
	for i := range 4 {
		require.NoError(t, r.m.Add(ctx, trade(schema.VenueBinance, time.Duration(10+i)*time.Millisecond, "100")))
	}
	r.clk.set(t0.Add(time.Second))
	require.NoError(t, r.m.Flush(ctx))
	r.none(t)
	st := r.m.Stats()
	require.Equal(t, uint64(3), st.Suppressed)
	require.Equal(t, uint64(1), st.Published)
	require.Zero(t, st.LateDropped)
}

// Continuous: the consolidated best bid/offer names the venue of each side,
// is published only when it changes, and a venue that goes silent leaves
// it after Staleness — on the next event or Tick — as does a venue whose
// book is invalidated.
func TestContinuous(t *testing.T) {
	r := newRig(t, Options{Mode: Continuous, Staleness: 3 * time.Second})
	ctx := context.Background()
	require.NoError(t, r.m.Add(ctx, bbo(schema.VenueBinance, "100", "101")))
	c := r.next(t)
	require.Equal(t, schema.EventBBO, c.Type)
	require.Equal(t, "100", c.BestBid.String())
	require.Equal(t, schema.VenueBinance, c.BestBidVenue)
	require.False(t, c.Complete)
	require.Equal(t, []schema.Venue{schema.VenueOKX}, c.Missing)

	r.clk.set(t0.Add(time.Second))
	require.NoError(t, r.m.Add(ctx, bbo(schema.VenueOKX, "100.5", "101.5")))
	c = r.next(t)
	require.Equal(t, "100.5", c.BestBid.String())
	require.Equal(t, schema.VenueOKX, c.BestBidVenue)
	require.Equal(t, "101", c.BestAsk.String())
	require.Equal(t, schema.VenueBinance, c.BestAskVenue)
	require.True(t, c.Complete)
	require.Len(t, c.Fragments, 2)

	require.NoError(t, r.m.Add(ctx, bbo(schema.VenueOKX, "100.5", "101.5")), "no change: nothing published")
	r.none(t)

	// Binance keeps quoting, OKX goes silent: 3 s after its last quote
	// its bid leaves the top.
	r.clk.set(t0.Add(3 * time.Second))
	require.NoError(t, r.m.Add(ctx, bbo(schema.VenueBinance, "100", "101")))
	require.NoError(t, r.m.Tick(ctx))
	r.none(t)
	r.clk.set(t0.Add(4 * time.Second))
	require.NoError(t, r.m.Tick(ctx))
	c = r.next(t)
	require.Equal(t, "100", c.BestBid.String())
	require.Equal(t, schema.VenueBinance, c.BestBidVenue)
	require.Equal(t, []schema.Venue{schema.VenueOKX}, c.Missing)
	require.Equal(t, uint64(2), r.m.Stats().Expired)

	// Binance's book breaks: its quote goes at once.
	gap := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventGap,
		Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate}}
	require.NoError(t, r.m.Add(ctx, gap))
	c = r.next(t)
	require.True(t, c.BestBid.IsZero())
	require.Empty(t, c.BestBidVenue)
	require.Len(t, c.Missing, 2)
	require.Equal(t, uint64(1), r.m.Stats().Invalidated)
}

// The whole path: canonical best bid/offers published to the dispatcher
// reach the merger through a subscription handler, and the consolidated
// view comes back out on the MergedEvent lane.
func TestContinuousThroughDispatcher(t *testing.T) {
	r := newRig(t, Options{Mode: Continuous})
	ctx := context.Background()
	_, err := r.d.Subscribe(dispatch.Filter{Symbols: []string{"BTC-USDT"}}, &dispatch.SubscribeOptions{
		Handler: func(ev *schema.CanonicalEvent) { _ = r.m.Add(ctx, ev) },
	})
	require.NoError(t, err)
	for _, q := range []struct {
		v        schema.Venue
		bid, ask string
	}{{schema.VenueBinance, "100", "101"}, {schema.VenueOKX, "99", "100.5"}} {
		ev, err := r.pools.Events.Get(ctx)
		require.NoError(t, err)
		src := bbo(q.v, q.bid, q.ask)
		ev.Venue, ev.Symbol, ev.Type, ev.BBO = src.Venue, src.Symbol, src.Type, src.BBO
		require.NoError(t, r.d.Publish(ctx, ev))
	}
	require.Eventually(t, func() bool { return r.m.Stats().Published == 2 }, patience, time.Millisecond)
	// The consolidated view is coalescable: a subscriber that has not yet
	// taken the first sees only the second, which it always sees.
	c := r.next(t)
	if c.BestAskVenue != schema.VenueOKX {
		c = r.next(t)
	} else {
		require.Equal(t, uint64(1), r.sub.Stats().Coalesced)
	}
	require.Equal(t, schema.VenueBinance, c.BestBidVenue)
	require.Equal(t, schema.VenueOKX, c.BestAskVenue)
	require.Equal(t, "100.5", c.BestAsk.String())
}

func TestNewRefuses(t *testing.T) {
	_, err := New(nil)
	require.ErrorIs(t, err, ErrNoSymbol)
	_, err = New(&Options{Symbol: "X"})
	require.ErrorIs(t, err, ErrNoVenues)
	_, err = New(&Options{Symbol: "X", Venues: []schema.Venue{schema.VenueOKX}})
	require.ErrorIs(t, err, ErrNoSink)
}
