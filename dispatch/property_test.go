package dispatch

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// The property test publishes -dispatch.property-events events of mixed
// types, streams and venues from two publisher goroutines to subscribers
// with random filters and speeds, one of them a hundred times slower than
// the feed, then checks what each subscriber saw against what was
// published. The default run is short: 100 000 events, a few seconds;
// under -race, which made those 32 s at load 19 (and a multiple of it on
// a machine loaded 40×, past go test's 10 minutes with the rest of the
// package), raceProperty events, enough for every subscriber to fall
// behind, drop and coalesce as the full run's do. A -dispatch.property-events
// given on the command line is run as given, with or without -race;
// .ci/run also runs the long one:
//
//	go test -race -run TestProperty ./dispatch -args -dispatch.property-events=1000000

var propertyEvents = flag.Int("dispatch.property-events", 100_000, "events TestProperty publishes")

// raceProperty is TestProperty's default number of events under -race.
const raceProperty = 25_000

// propertyN returns the events TestProperty publishes: the flag's value,
// or raceProperty under -race unless the flag was given.
func propertyN() int {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "dispatch.property-events" })
	if raceEnabled && !given {
		return raceProperty
	}
	return *propertyEvents
}

var (
	propVenues  = []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit, schema.VenueKraken}
	propSymbols = []string{"BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "DOGE-USDT", "ADA-USDT", "BNB-USDT", "LTC-USDT"}
	// propMix is the share of each type in the feed, in thousandths.
	propMix = []struct {
		typ schema.EventType
		w   int
	}{
		{schema.EventTrade, 250}, {schema.EventBBO, 250}, {schema.EventBookUpdate, 200},
		{schema.EventBookSnapshot, 10}, {schema.EventTicker, 80}, {schema.EventKlineLive, 50},
		{schema.EventKlineClosed, 5}, {schema.EventMarkPrice, 40}, {schema.EventFundingRate, 10},
		{schema.EventLiquidation, 5}, {schema.EventExecReport, 80}, {schema.EventOrderAck, 15},
		{schema.EventConnState, 5},
	}
)

// critRec is one published critical event of a venue.
type critRec struct {
	key   routeKey
	trace uint64 // the venue's critical counter
}

// feed is what one publisher published: the last sequence of every stream,
// and the critical events of its venues in order.
type feed struct {
	last map[routeKey]uint64
	crit map[schema.Venue][]critRec
}

// checker is one subscriber's view, built on its delivery goroutine.
type checker struct {
	name      string
	m         matcher
	gate      chan struct{} // nil: no pause; otherwise one token per market data event
	next      map[routeKey]uint64
	last      map[routeKey]uint64
	crit      map[schema.Venue][]critRec
	gapCount  uint64
	markers   uint64
	received  uint64
	failures  int
	firstFail string
	raw       []byte
}

func newChecker(name string, f Filter, gate chan struct{}) *checker {
	return &checker{name: name, m: compile(f), gate: gate, next: map[routeKey]uint64{},
		last: map[routeKey]uint64{}, crit: map[schema.Venue][]critRec{}}
}

func (c *checker) fail(format string, args ...any) {
	if c.failures == 0 {
		c.firstFail = fmt.Sprintf(format, args...)
	}
	c.failures++
}

func (c *checker) handle(ev *schema.CanonicalEvent) {
	c.received++
	k := keyOf(ev)
	if !c.m.match(k) && ev.Type != schema.EventGap {
		c.fail("%s: got %v, which its filter excludes", c.name, k)
	}
	switch t := ev.Type; {
	case t == schema.EventGap:
		g := ev.Control
		k.typ = g.GapType
		c.gapCount += g.GapCount
		c.markers++
		if g.Kind != schema.ControlGap || g.GapFirstSeq != c.next[k]+1 || g.GapLastSeq-g.GapFirstSeq+1 != g.GapCount {
			c.fail("%s: gap marker %+v for %v after seq %d", c.name, g, k, c.next[k])
		}
		c.next[k] = g.GapLastSeq
	case t.Critical():
		c.crit[ev.Venue] = append(c.crit[ev.Venue], critRec{key: k, trace: ev.TraceID})
	case t.Coalescable():
		if c.gate != nil {
			<-c.gate
		}
		if ev.SeqProvider <= c.last[k] {
			c.fail("%s: stale %v: seq %d after %d", c.name, k, ev.SeqProvider, c.last[k])
		}
		c.last[k] = ev.SeqProvider
	default:
		if c.gate != nil {
			<-c.gate
		}
		if ev.SeqProvider != c.next[k]+1 {
			c.fail("%s: %v seq %d after %d with no gap marker", c.name, k, ev.SeqProvider, c.next[k])
		}
		c.next[k] = ev.SeqProvider
		if t == schema.EventBookUpdate || t == schema.EventBookSnapshot {
			c.raw = strconv.AppendUint(c.raw[:0], ev.SeqProvider, 10)
			if !bytes.Equal(ev.Raw, c.raw) || len(ev.Book.Bids) != 2 || ev.Book.Asks[0].Price != schema.NewDecimal(int64(ev.SeqProvider), 2) {
				c.fail("%s: %v seq %d: payload %q %v", c.name, k, ev.SeqProvider, ev.Raw, ev.Book)
			}
		}
	}
}

// verify compares what c saw with what the feeds published.
func (c *checker) verify(t *testing.T, feeds []*feed, st Stats) {
	t.Helper()
	assert.Zero(t, c.failures, "%s: %d violations, first: %s", c.name, c.failures, c.firstFail)
	assert.Equal(t, st.Delivered, c.received, c.name)
	assert.Equal(t, st.Dropped, c.gapCount, "%s: every drop reported by a gap marker", c.name)
	assert.Equal(t, st.Gaps, c.markers, c.name)
	var lost, streams int
	for _, f := range feeds {
		for k, last := range f.last {
			if !c.m.match(k) || k.typ.Critical() {
				continue
			}
			streams++
			got := c.next[k]
			if k.typ.Coalescable() {
				got = c.last[k]
			}
			if got != last {
				lost++
				if lost <= 3 {
					t.Errorf("%s: %v: last published %d, last seen %d", c.name, k, last, got)
				}
			}
		}
		for v, recs := range f.crit {
			want := slices.DeleteFunc(slices.Clone(recs), func(r critRec) bool { return !c.m.match(r.key) })
			if !assert.Equal(t, len(want), len(c.crit[v]), "%s %s: critical events", c.name, v) {
				continue
			}
			assert.True(t, slices.Equal(want, c.crit[v]), "%s %s: critical events lost or reordered", c.name, v)
		}
	}
	assert.Zero(t, lost, "%s: streams whose last event was not seen", c.name)
	t.Logf("%-8s streams=%4d delivered=%7d coalesced=%7d dropped=%7d gaps=%6d overflowed=%d maxDepth=%d worstLag=%v",
		c.name, streams, st.Delivered, st.Coalesced, st.Dropped, st.Gaps, st.Overflowed, st.MaxDepth, st.WorstLag.Round(time.Microsecond))
}

// publishFeed publishes n events on the streams of venues and keeps the
// record. Every tick events it offers one token to each gate.
func publishFeed(d *Dispatcher, p *pool.Pool[*schema.CanonicalEvent], rng *rand.Rand, venues []schema.Venue, n int, gates []chan struct{}, ticks []int) (*feed, error) {
	f := newFeed()
	traces := map[schema.Venue]uint64{}
	ctx := context.Background()
	for i := range n {
		for g, gate := range gates {
			if i%ticks[g] == 0 {
				select {
				case gate <- struct{}{}:
				default:
				}
			}
		}
		ev, err := p.Get(ctx)
		if err != nil {
			return f, err
		}
		w := rng.IntN(1000)
		typ := propMix[len(propMix)-1].typ
		for _, m := range propMix {
			if w < m.w {
				typ = m.typ
				break
			}
			w -= m.w
		}
		ev.Venue, ev.Type = venues[rng.IntN(len(venues))], typ
		if typ != schema.EventConnState {
			ev.Symbol = propSymbols[rng.IntN(len(propSymbols))]
		}
		// Views: a book's depth and a kline's interval are streams of
		// their own (Bybit orderbook.50 beside .200, Binance 1m beside 1h).
		switch typ {
		case schema.EventBookUpdate, schema.EventBookSnapshot:
			ev.Book.Depth = []int{0, 50, 200}[rng.IntN(3)]
		case schema.EventKlineLive, schema.EventKlineClosed:
			ev.UseKline().Interval = []string{"1m", "1h"}[rng.IntN(2)]
		}
		f.stamp(ev, traces)
		if err := d.Publish(ctx, ev); err != nil {
			return f, err
		}
	}
	return f, nil
}

func newFeed() *feed { return &feed{last: map[routeKey]uint64{}, crit: map[schema.Venue][]critRec{}} }

// stamp gives ev, whose venue, symbol and type are set, the next sequence
// of its stream, a trace id if it is critical and a payload the checker
// verifies if it is a book event, and records it in f.
func (f *feed) stamp(ev *schema.CanonicalEvent, traces map[schema.Venue]uint64) {
	k := keyOf(ev)
	f.last[k]++
	ev.SeqProvider = f.last[k]
	ev.IngestTS = time.Now().UnixNano()
	switch typ := ev.Type; {
	case typ.Critical():
		traces[ev.Venue]++
		ev.TraceID = traces[ev.Venue]
		f.crit[ev.Venue] = append(f.crit[ev.Venue], critRec{key: k, trace: ev.TraceID})
	case typ == schema.EventBookUpdate || typ == schema.EventBookSnapshot:
		ev.Book.FirstSeq, ev.Book.LastSeq = ev.SeqProvider, ev.SeqProvider
		ev.Raw = strconv.AppendUint(ev.Raw, ev.SeqProvider, 10)
		lv := schema.Level{Price: schema.NewDecimal(int64(ev.SeqProvider), 2), Qty: schema.NewDecimal(1, 0)}
		ev.Book.Bids = append(ev.Book.Bids, lv, lv)
		ev.Book.Asks = append(ev.Book.Asks, lv)
	}
}

func randomFilter(rng *rand.Rand) Filter {
	var f Filter
	if rng.IntN(3) > 0 {
		for _, i := range rng.Perm(len(propVenues))[:1+rng.IntN(3)] {
			f.Venues = append(f.Venues, propVenues[i])
		}
	}
	if rng.IntN(2) > 0 {
		for _, i := range rng.Perm(len(propSymbols))[:2+rng.IntN(4)] {
			f.Symbols = append(f.Symbols, propSymbols[i])
		}
	}
	if rng.IntN(2) > 0 {
		for _, m := range propMix {
			if m.typ == schema.EventExecReport || rng.IntN(2) > 0 {
				f.Types = append(f.Types, m.typ)
			}
		}
	}
	return f
}

func TestProperty(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	events := propertyN()
	t.Logf("seed %d, %d events", seed, events)
	rng := rand.New(rand.NewPCG(seed, 1))
	p := newEventPool(schema.CapCanonicalEvent)
	d := New(p, nil)
	start := time.Now()

	medium, slow := make(chan struct{}, 1), make(chan struct{}, 1)
	type sub struct {
		c    *checker
		opts SubscribeOptions
	}
	subs := []sub{
		{c: newChecker("all", Filter{}, nil)},
		{c: newChecker("random1", randomFilter(rng), nil)},
		{c: newChecker("random2", randomFilter(rng), nil), opts: SubscribeOptions{OrderedBound: 16, CriticalBound: 4}},
		{c: newChecker("medium", randomFilter(rng), medium), opts: SubscribeOptions{OrderedBound: 64}},
		{c: newChecker("slow", Filter{Venues: propVenues[:3]}, slow), opts: SubscribeOptions{OrderedBound: 256}},
		{c: newChecker("channel", randomFilter(rng), nil)},
	}
	var readers sync.WaitGroup
	subscriptions := make([]*Subscription, len(subs))
	for i, s := range subs {
		t.Logf("%-8s filter %+v", s.c.name, s.c.m)
		opts := s.opts
		if s.c.name != "channel" {
			opts.Handler = s.c.handle
		}
		sn, err := d.Subscribe(Filter{}, &opts)
		require.NoError(t, err)
		sn.m = s.c.m // the checker's filter, compiled once
		subscriptions[i] = sn
		if opts.Handler == nil {
			readers.Add(1)
			go func() {
				defer readers.Done()
				for ev := range sn.C() {
					s.c.handle(ev)
				}
			}()
		}
	}
	d.idx.Store(newIndex(subscriptions)) // the filters set above

	feeds := make([]*feed, 2)
	errs := make([]error, 2)
	var pubs sync.WaitGroup
	for i := range feeds {
		pubs.Add(1)
		go func() {
			defer pubs.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i+2)))
			feeds[i], errs[i] = publishFeed(d, p, rng, propVenues[2*i:2*i+2], events/2,
				[]chan struct{}{medium, slow}, []int{4, 100})
		}()
	}
	pubs.Wait()
	published := time.Since(start)
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	close(medium)
	close(slow)
	closeDispatcher(t, d)
	readers.Wait()
	t.Logf("published in %v, drained in %v", published, time.Since(start)-published)

	for i, s := range subs {
		s.c.verify(t, feeds, subscriptions[i].Stats())
	}
	assert.Positive(t, subscriptions[4].Stats().Dropped, "the slow subscriber fell behind")
	assert.Positive(t, subscriptions[4].Stats().Coalesced)
	assert.Zero(t, p.Stats().InUse)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	require.NoError(t, p.Shutdown(ctx))
}
