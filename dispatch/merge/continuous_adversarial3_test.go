package merge_test

// Adversarial tests, third round, from the package documentation and the
// exported API only: continuous mode against a model of its documented
// rules on random traffic, and windowed mode through a real dispatcher.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/dispatch/merge"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

type adv3Clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *adv3Clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *adv3Clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// adv3Sink keeps a copy of every merged event and returns the original.
type adv3Sink struct {
	p   *pool.Pool[*schema.MergedEvent]
	got []*schema.MergedEvent
}

func (s *adv3Sink) PublishMerged(_ context.Context, m *schema.MergedEvent) error {
	s.got = append(s.got, m.Clone())
	s.p.Put(m)
	return nil
}

// modelVenue is what the documentation says a venue contributes.
type modelVenue struct {
	down     bool
	upAt     int64
	lostAt   int64
	bid, ask schema.Decimal
	bidQ     schema.Decimal
	askQ     schema.Decimal
	bidOK    bool
	askOK    bool
	at       time.Time
}

func TestAdversarial3ContinuousModel(t *testing.T) {
	t.Parallel()
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit, schema.VenueKraken}
	const staleness = 5 * time.Second
	var poolDropped uint64
	defer func() { require.Positive(t, poolDropped, "views found the pool dry") }()
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		mp := pool.New("merged", 2, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
		sink := &adv3Sink{p: mp}
		clk := &adv3Clock{t: time.Unix(1_700_000_000, 0)}
		m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: venues, Mode: merge.Continuous,
			Sink: sink, Merged: mp, Now: clk.now, Staleness: staleness})
		require.NoError(t, err)
		model := make([]modelVenue, len(venues))
		var held []*schema.MergedEvent
		ctx := context.Background()
		// Receive times follow the Merger's clock (a quote's age counts
		// from the earliest of them and its receipt), a little ahead of it
		// or behind it.
		ingest := clk.now().UnixNano()
		for step := range 1500 {
			vi := rng.IntN(len(venues))
			v := &model[vi]
			ev := &schema.CanonicalEvent{Venue: venues[vi], Symbol: "BTC-USDT"}
			ingest = max(ingest, clk.now().UnixNano()) + rng.Int64N(1000)
			ev.IngestTS = ingest - rng.Int64N(3000) // sometimes received before the venue's last reconnection
			if rng.IntN(40) == 0 {
				// The Merged pool runs dry for a while: no view is published
				// then, and none is recorded as published — the next Tick
				// once an object is free publishes the latest.
				if held == nil {
					held = takeAll(t, mp)
				} else {
					for _, x := range held {
						mp.Put(x)
					}
					held = nil
					require.NoError(t, m.Tick(ctx))
					expire(model, clk.now(), staleness)
					checkView(t, fmt.Sprintf("seed %d step %d (pool back)", seed, step), sink, model, venues)
				}
			}
			check := func(what string) {
				if held == nil {
					checkView(t, what, sink, model, venues)
				}
			}
			op := rng.IntN(20)
			switch {
			case op < 12:
				ev.Type = schema.EventBBO
				if rng.IntN(8) != 0 {
					ev.BBO.BidPrice, ev.BBO.BidQty = schema.NewDecimal(int64(9900+rng.IntN(50)), 1), schema.NewDecimal(int64(1+rng.IntN(9)), 0)
				}
				if rng.IntN(8) != 0 {
					ev.BBO.AskPrice, ev.BBO.AskQty = schema.NewDecimal(int64(9950+rng.IntN(50)), 1), schema.NewDecimal(int64(1+rng.IntN(9)), 0)
				}
				if !v.down && (v.upAt == 0 || ev.IngestTS == 0 || ev.IngestTS >= v.upAt) && (v.lostAt == 0 || ev.IngestTS == 0 || ev.IngestTS >= v.lostAt) {
					v.bid, v.bidQ, v.bidOK = ev.BBO.BidPrice, ev.BBO.BidQty, !ev.BBO.BidPrice.IsZero()
					v.ask, v.askQ, v.askOK = ev.BBO.AskPrice, ev.BBO.AskQty, !ev.BBO.AskPrice.IsZero()
					v.at = clk.now()
					if ev.IngestTS != 0 && ev.IngestTS < v.at.UnixNano() {
						v.at = time.Unix(0, ev.IngestTS)
					}
				}
			case op < 15:
				ev.Type = schema.EventConnState
				ev.UseControl().Kind = schema.ControlConnState
				states := []schema.ConnState{schema.ConnConnected, schema.ConnConnected, schema.ConnDisconnected, schema.ConnReconnecting, schema.ConnRotating, schema.ConnConnecting, schema.ConnState(200)}
				ev.UseControl().State = states[rng.IntN(len(states))]
				if ev.Control.State == schema.ConnConnected {
					ev.IngestTS = ingest
					v.down, v.upAt = false, ev.IngestTS
				} else {
					v.down, v.bidOK, v.askOK = true, false, false
				}
				if rng.IntN(2) == 0 {
					ev.Symbol = "" // a connection's state names no symbol
				}
			case op < 17:
				ev.Type = schema.EventGap
				ev.UseControl().Kind = schema.ControlGap
				gapTypes := []schema.EventType{schema.EventBookUpdate, schema.EventBBO, schema.EventTrade, schema.EventUnknown}
				ev.UseControl().GapType = gapTypes[rng.IntN(len(gapTypes))]
				if rng.IntN(3) == 0 {
					ev.Symbol = "" // about the whole venue
				}
				// About the whole venue, or the symbol's quote, book or
				// every stream (no type): the quote may be lost.
				if ev.Symbol == "" || ev.Control.GapType != schema.EventTrade {
					v.bidOK, v.askOK = false, false
					v.lostAt = max(v.lostAt, ev.IngestTS) // quotes from before the gap are not afresh
				}
			case op < 18:
				// Another symbol's quote: ignored.
				ev.Type, ev.Symbol = schema.EventBBO, "ETH-USDT"
				ev.BBO.BidPrice, ev.BBO.AskPrice = schema.NewDecimal(1, 0), schema.NewDecimal(2, 0)
			default:
				clk.add(time.Duration(rng.Int64N(int64(3 * time.Second))))
				require.NoError(t, m.Tick(ctx))
				expire(model, clk.now(), staleness)
				check(fmt.Sprintf("seed %d step %d (tick)", seed, step))
				continue
			}
			require.NoError(t, m.Add(ctx, ev))
			expire(model, clk.now(), staleness)
			var state schema.ConnState // a quote carries no Control
			if ev.Control != nil {
				state = ev.Control.State
			}
			check(fmt.Sprintf("seed %d step %d (%v %v)", seed, step, ev.Type, state))
		}
		for _, x := range held {
			mp.Put(x)
		}
		poolDropped += m.Stats().PoolDropped
		require.Zero(t, mp.Stats().InUse)
	}
}

// takeAll checks every free object out of p.
func takeAll(t *testing.T, p *pool.Pool[*schema.MergedEvent]) []*schema.MergedEvent {
	var out []*schema.MergedEvent
	for {
		x, err := p.TryGet()
		if err != nil {
			require.ErrorIs(t, err, pool.ErrExhausted)
			return out
		}
		out = append(out, x)
	}
}

func expire(model []modelVenue, now time.Time, staleness time.Duration) {
	for i := range model {
		if model[i].bidOK && now.Sub(model[i].at) >= staleness {
			model[i].bidOK = false
		}
		if model[i].askOK && now.Sub(model[i].at) >= staleness {
			model[i].askOK = false
		}
	}
}

// checkView holds the last published view to the model: the best bid is
// the highest of the venues quoting one, the best ask the lowest, each
// with a venue quoting that price and its quantity; Missing names the
// venues quoting neither side.
func checkView(t *testing.T, what string, sink *adv3Sink, model []modelVenue, venues []schema.Venue) {
	t.Helper()
	var bestBid, bestAsk *schema.Decimal
	var missing []schema.Venue
	for i := range model {
		v := &model[i]
		if v.bidOK && (bestBid == nil || v.bid.Cmp(*bestBid) > 0) {
			bestBid = &v.bid
		}
		if v.askOK && (bestAsk == nil || v.ask.Cmp(*bestAsk) < 0) {
			bestAsk = &v.ask
		}
		if !v.bidOK && !v.askOK {
			missing = append(missing, venues[i])
		}
	}
	if len(sink.got) == 0 {
		require.Nil(t, bestBid, "%s: nothing published though a bid is quoted", what)
		require.Nil(t, bestAsk, "%s: nothing published though an ask is quoted", what)
		return
	}
	last := sink.got[len(sink.got)-1]
	require.NoError(t, last.Validate(), what)
	require.True(t, last.View(), what)
	require.ElementsMatch(t, missing, last.Missing, "%s: Missing", what)
	require.Equal(t, len(missing) == 0, last.Complete, what)
	side := func(name string, best *schema.Decimal, price, qty schema.Decimal, venue schema.Venue, pick func(*modelVenue) (schema.Decimal, schema.Decimal, bool)) {
		if best == nil {
			require.True(t, price.IsZero(), "%s: %s %v published with no venue quoting", what, name, price)
			require.Empty(t, venue, what)
			return
		}
		require.True(t, price.Equal(*best), "%s: best %s is %v, model %v", what, name, price, *best)
		for i := range model {
			if venues[i] == venue {
				p, q, ok := pick(&model[i])
				require.True(t, ok && p.Identical(price) && q.Identical(qty), "%s: %s credited to %s, which quotes %v×%v (ok %v)", what, name, venue, p, q, ok)
				return
			}
		}
		t.Fatalf("%s: %s credited to unknown venue %q", what, name, venue)
	}
	side("bid", bestBid, last.BestBid, last.BestBidQty, last.BestBidVenue, func(v *modelVenue) (schema.Decimal, schema.Decimal, bool) { return v.bid, v.bidQ, v.bidOK })
	side("ask", bestAsk, last.BestAsk, last.BestAskQty, last.BestAskVenue, func(v *modelVenue) (schema.Decimal, schema.Decimal, bool) { return v.ask, v.askQ, v.askOK })
	// One fragment per venue quoting, carrying its quote.
	require.Len(t, last.Fragments, len(venues)-len(missing), what)
	for _, f := range last.Fragments {
		for i := range model {
			if venues[i] != f.Venue {
				continue
			}
			v := &model[i]
			if v.bidOK {
				require.True(t, f.BidPrice.Identical(v.bid), "%s: fragment of %s bid", what, f.Venue)
			} else {
				require.True(t, f.BidPrice.IsZero(), "%s: fragment of %s carries a bid %v it no longer quotes (views %d, last %+v)", what, f.Venue, f.BidPrice, len(sink.got), last)
			}
			if v.askOK {
				require.True(t, f.AskPrice.Identical(v.ask), "%s: fragment of %s ask", what, f.Venue)
			} else {
				require.True(t, f.AskPrice.IsZero(), "%s: fragment of %s carries an ask it no longer quotes", what, f.Venue)
			}
		}
	}
}

// Windowed mode fed by a real dispatcher subscription, as the package doc
// recommends, with three venues publishing trades from goroutines of their
// own and the windows read by a merged subscriber: every trade the
// subscription delivered is in exactly one window or counted late, and
// nothing is held after Close.
func TestAdversarial3WindowsThroughTheDispatcher(t *testing.T) {
	t.Parallel()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, &dispatch.Options{Merged: pools.Merged})
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit}
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: venues, Sink: d, Merged: pools.Merged,
		Window: 50 * time.Millisecond, MaxEvents: 7})
	require.NoError(t, err)
	var fedMu sync.Mutex
	fed := map[[2]uint64]bool{}
	msub, err := d.SubscribeMerged(dispatch.MergedFilter{Symbols: []string{"BTC-USDT"}}, &dispatch.MergedOptions{Bound: 1 << 16})
	require.NoError(t, err)
	windowsDone := make(chan []*schema.MergedEvent)
	go func() {
		var ws []*schema.MergedEvent
		for w := range msub.C() {
			ws = append(ws, w)
		}
		windowsDone <- ws
	}()
	sub, err := d.Subscribe(dispatch.Filter{Symbols: []string{"BTC-USDT"}, Types: []schema.EventType{schema.EventTrade}},
		&dispatch.SubscribeOptions{OrderedBound: 1 << 16, Handler: func(ev *schema.CanonicalEvent) {
			fedMu.Lock()
			vi := map[schema.Venue]uint64{schema.VenueBinance: 0, schema.VenueOKX: 1, schema.VenueBybit: 2}[ev.Venue]
			fed[[2]uint64{vi, ev.SeqProvider}] = true
			fedMu.Unlock()
			require.NoError(t, m.Add(context.Background(), ev))
		}})
	require.NoError(t, err)
	base := time.Unix(1_700_000_000, 0).UnixNano()
	var wg sync.WaitGroup
	for vi, v := range venues {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(vi), 3))
			at := base
			for i := range 300 {
				ev, err := pools.Events.Get(context.Background())
				require.NoError(t, err)
				at += rng.Int64N(int64(4*time.Millisecond)) - int64(time.Millisecond) // a little out of order
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider, ev.ExchangeTS = v, "BTC-USDT", schema.EventTrade, uint64(i+1), at
				ev.Trade.Price, ev.Trade.Qty = schema.NewDecimal(int64(100+i), 0), schema.NewDecimal(1, 0)
				require.NoError(t, d.Publish(context.Background(), ev))
			}
		})
	}
	wg.Wait()
	require.Eventually(t, sub.Idle, 30*time.Second, time.Millisecond)
	require.NoError(t, m.Flush(context.Background()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, d.Close(ctx))
	ws := <-windowsDone

	st := m.Stats()
	seen := map[[2]uint64]int{}
	prevClose := int64(-1 << 63)
	for _, w := range ws {
		require.NoError(t, w.Validate())
		require.GreaterOrEqual(t, w.WindowOpen, prevClose, "windows overlap")
		prevClose = w.WindowClose
		for _, f := range w.Fragments {
			vi := map[schema.Venue]uint64{schema.VenueBinance: 0, schema.VenueOKX: 1, schema.VenueBybit: 2}[f.Venue]
			seen[[2]uint64{vi, f.Seq}]++
		}
	}
	require.Equal(t, st.Published, uint64(len(ws)), "a window published but not delivered")
	for k, n := range seen {
		require.Equal(t, 1, n, "fragment %v in %d windows", k, n)
		require.True(t, fed[k])
	}
	require.Len(t, fed, 900)
	require.Equal(t, uint64(len(fed)), uint64(len(seen))+st.LateDropped+st.Duplicates, "%+v", st)
	require.NoError(t, pools.Shutdown(ctx))
}

// A window merges the venues' streams: its fragments come in order of
// event time (schema.Fragment.Time), whatever order the venues' events
// arrived in, those of one time in arrival order — so that the last
// fragment is the latest trade and two runs over the same events give the
// same window.
func TestAdversarial3WindowFragmentsInTimeOrder(t *testing.T) {
	t.Parallel()
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit}
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 11))
		mp := pool.New("merged", 2, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
		sink := &adv3Sink{p: mp}
		clk := &adv3Clock{t: time.Unix(1_700_000_000, 0)}
		m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: venues, Sink: sink, Merged: mp, Now: clk.now,
			Window: 100 * time.Millisecond, MaxEvents: 50})
		require.NoError(t, err)
		ctx := context.Background()
		base := clk.now().UnixNano()
		// Each venue's stream is in order; the venues lag each other.
		next := make([]int64, len(venues))
		arrival := map[[2]uint64]int{}
		for i := range 600 {
			vi := rng.IntN(len(venues))
			next[vi] += rng.Int64N(int64(2 * time.Millisecond))
			ev := &schema.CanonicalEvent{Venue: venues[vi], Symbol: "BTC-USDT", Type: schema.EventTrade, SeqProvider: uint64(i + 1),
				ExchangeTS: base + next[vi] - int64(vi)*int64(5*time.Millisecond)}
			arrival[[2]uint64{uint64(vi), ev.SeqProvider}] = i
			require.NoError(t, m.Add(ctx, ev))
		}
		clk.add(time.Hour)
		require.NoError(t, m.Flush(ctx))
		require.NotEmpty(t, sink.got)
		for wi, w := range sink.got {
			for i := 1; i < len(w.Fragments); i++ {
				a, b := &w.Fragments[i-1], &w.Fragments[i]
				require.LessOrEqual(t, a.Time(), b.Time(), "seed %d window %d: fragment %d at %d before %d at %d", seed, wi, i, b.Time(), i-1, a.Time())
				if a.Time() == b.Time() {
					va, vb := slices.Index(venues, a.Venue), slices.Index(venues, b.Venue)
					require.Less(t, arrival[[2]uint64{uint64(va), a.Seq}], arrival[[2]uint64{uint64(vb), b.Seq}], "same time: arrival order")
				}
			}
		}
	}
}

// A gap marker takes the venue's quote out "until it is connected again
// and quotes afresh". On the dispatcher a marker about a best bid/offer
// or book stream is critical and overtakes the venue's best bid/offer
// still queued from before the gap; that quote, received before the
// marker (by IngestTS), is not afresh and must not bring the venue back.
func TestAdversarial3QuoteFromBeforeAGapStaysOut(t *testing.T) {
	t.Parallel()
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX}
	for _, gapType := range []schema.EventType{schema.EventBBO, schema.EventBookUpdate} {
		mp := pool.New("merged", 2, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
		sink := &adv3Sink{p: mp}
		clk := &adv3Clock{t: time.Unix(1_700_000_000, 0)}
		m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: venues, Mode: merge.Continuous, Sink: sink, Merged: mp, Now: clk.now})
		require.NoError(t, err)
		ctx := context.Background()
		quote := func(v schema.Venue, bid int64, ingest int64) {
			require.NoError(t, m.Add(ctx, &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventBBO, IngestTS: ingest,
				BBO: schema.BBO{BidPrice: schema.NewDecimal(bid, 0), BidQty: schema.NewDecimal(1, 0), AskPrice: schema.NewDecimal(bid+10, 0), AskQty: schema.NewDecimal(1, 0)}}))
		}
		base := clk.now().UnixNano()
		quote(schema.VenueOKX, 100, base+1000)
		quote(schema.VenueBinance, 105, base+1001)
		require.NoError(t, m.Add(ctx, &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventGap, IngestTS: base + 1010,
			Control: &schema.Control{Kind: schema.ControlGap, GapType: gapType}}))
		last := sink.got[len(sink.got)-1]
		require.Equal(t, schema.VenueOKX, last.BestBidVenue, "%v gap: Binance leaves", gapType)
		quote(schema.VenueBinance, 106, base+1005) // queued before the marker, delivered after it
		last = sink.got[len(sink.got)-1]
		require.Equal(t, schema.VenueOKX, last.BestBidVenue, "%v gap: a quote from before the gap brought Binance back", gapType)
		require.Equal(t, []schema.Venue{schema.VenueBinance}, last.Missing)
		quote(schema.VenueBinance, 107, base+1010) // the first quote after the gap
		last = sink.got[len(sink.got)-1]
		require.Equal(t, schema.VenueBinance, last.BestBidVenue, "%v gap: a quote after the gap brings it back", gapType)
		require.Equal(t, "107", last.BestBid.String())
		require.Positive(t, m.Stats().Refused)
	}
}

// Run with an interval that is not positive is a host's mistake that must
// not panic the goroutine it runs on (time.NewTicker panics on it): it
// returns an error at once.
func TestAdversarial3RunRefusesABadInterval(t *testing.T) {
	t.Parallel()
	mp := pool.New("merged", 1, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueOKX}, Sink: &adv3Sink{p: mp}, Merged: mp})
	require.NoError(t, err)
	for _, d := range []time.Duration{0, -time.Second} {
		require.NotPanics(t, func() {
			require.Error(t, m.Run(context.Background(), d))
		})
	}
}

// A venue named twice in Options.Venues (a host's list built from two
// sources) is one venue: once it quotes, the view is complete and names no
// venue missing; a window it sent to is complete.
func TestAdversarial3VenueNamedTwice(t *testing.T) {
	t.Parallel()
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBinance}
	ctx := context.Background()
	mp := pool.New("merged", 2, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	sink := &adv3Sink{p: mp}
	clk := &adv3Clock{t: time.Unix(1_700_000_000, 0)}
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: venues, Mode: merge.Continuous, Sink: sink, Merged: mp, Now: clk.now})
	require.NoError(t, err)
	for i, v := range []schema.Venue{schema.VenueBinance, schema.VenueOKX} {
		require.NoError(t, m.Add(ctx, &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventBBO,
			BBO: schema.BBO{BidPrice: schema.NewDecimal(int64(100+i), 0), BidQty: schema.NewDecimal(1, 0)}}))
	}
	last := sink.got[len(sink.got)-1]
	require.Empty(t, last.Missing)
	require.True(t, last.Complete)
	require.Len(t, last.Fragments, 2)

	wsink := &adv3Sink{p: mp}
	w, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: venues, Sink: wsink, Merged: mp, Now: clk.now})
	require.NoError(t, err)
	base := clk.now().UnixNano()
	for i, v := range []schema.Venue{schema.VenueBinance, schema.VenueOKX} {
		require.NoError(t, w.Add(ctx, &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventTrade, ExchangeTS: base + int64(i)}))
	}
	require.NoError(t, w.Flush(ctx))
	require.Len(t, wsink.got, 1)
	require.Empty(t, wsink.got[0].Missing)
	require.True(t, wsink.got[0].Complete)
}

// A venue that stalls does not stall the merge: windows go on closing (by
// time on Tick, by count), each names it missing, and what the Merger
// holds stays bounded by MaxEvents whatever the others send.
func TestAdversarial3StalledVenueWindows(t *testing.T) {
	t.Parallel()
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit}
	mp := pool.New("merged", 2, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	sink := &adv3Sink{p: mp}
	clk := &adv3Clock{t: time.Unix(1_700_000_000, 0)}
	const maxEvents = 64
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: venues, Sink: sink, Merged: mp, Now: clk.now,
		Window: time.Second, MaxEvents: maxEvents})
	require.NoError(t, err)
	ctx := context.Background()
	var seq uint64
	for round := range 50 {
		// Bybit stalls after round 0; the others go on, a burst or a trickle.
		n := 3
		if round%5 == 0 {
			n = 200
		}
		for i := range n {
			for _, v := range venues {
				if v == schema.VenueBybit && round > 0 {
					continue
				}
				seq++
				ts := clk.now().UnixNano() + int64(i)
				require.NoError(t, m.Add(ctx, &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventTrade, SeqProvider: seq, ExchangeTS: ts}))
			}
		}
		clk.add(700 * time.Millisecond)
		require.NoError(t, m.Tick(ctx))
	}
	st := m.Stats()
	require.Positive(t, st.Windows)
	var held uint64
	for _, w := range sink.got {
		require.LessOrEqual(t, len(w.Fragments), maxEvents)
		held += uint64(len(w.Fragments))
	}
	require.LessOrEqual(t, st.Fragments-held, uint64(maxEvents), "the open window holds at most MaxEvents")
	late := sink.got[len(sink.got)-1]
	require.Equal(t, []schema.Venue{schema.VenueBybit}, late.Missing, "the stalled venue is named")
	require.False(t, late.Complete)
	require.Equal(t, st.Windows, st.Published)
}
