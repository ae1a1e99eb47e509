package dispatch

// Adversarial tests, second round (reviewer R4), written apart from the
// implementation: the critical lane's promises under live load, the
// OnCriticalOverflow alarm misused, events of unknown types, and
// publishers racing subscribers that come and go.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// An execution report waits at most for the handler call in progress plus
// the critical events queued ahead of it — while the subscriber is behind,
// dropping market data, with gap markers waiting and coalescable slots
// queued, and while the publisher keeps publishing. Counted exactly: of the
// handler calls that start after a report is published and before the
// report's own, at most one is not critical (the one the goroutine had
// already taken when the report was queued; counted from when Publish
// returns).
func TestAdversarial2ExecReportWaitsForOneHandlerCall(t *testing.T) {
	t.Parallel()
	// 8 seeds, 4 under -race (this test was over 20 s under -race at load
	// 13-20, beside the parallel ones): each seed is an independent
	// random mix of thousands of events through every path the property
	// is checked on, and no seed is the known failing one of a fault, so
	// 4 check the same paths; the 8 run without -race.
	seeds := uint64(8)
	if raceEnabled {
		seeds = 4
	}
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(seed, 16))
		p := newEventPool(16)
		d := New(p, nil)
		var mu sync.Mutex
		var log []*schema.CanonicalEvent
		permits := make(chan struct{}, 1<<16)
		s, err := d.Subscribe(Filter{}, &SubscribeOptions{OrderedBound: 1 + rng.IntN(4), Handler: func(ev *schema.CanonicalEvent) {
			mu.Lock()
			log = append(log, ev)
			mu.Unlock()
			<-permits
		}})
		require.NoError(t, err)
		entries := func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(log)
		}
		type pub struct {
			trace uint64
			at    int // handler calls started before it was published
		}
		var execs []pub
		seqs := map[routeKey]uint64{}
		ctx := context.Background()
		for i := range 3000 {
			ev, err := p.TryGet()
			require.NoError(t, err)
			ev.Venue = []schema.Venue{bin, schema.VenueOKX}[rng.IntN(2)]
			ev.Symbol = []string{"A", "B", "C"}[rng.IntN(3)]
			ev.Type = []schema.EventType{schema.EventTrade, schema.EventBookUpdate, schema.EventBBO, schema.EventTicker,
				schema.EventTrade, schema.EventExecReport, schema.EventOrderAck}[rng.IntN(7)]
			k := keyOf(ev)
			seqs[k]++
			ev.SeqProvider = seqs[k]
			ev.TraceID = uint64(i + 1)
			crit, trace := ev.Type.Critical(), ev.TraceID
			require.NoError(t, d.Publish(ctx, ev))
			if crit {
				// Counted once Publish has queued it: from then on, at most
				// the event the goroutine had already taken (and not yet
				// shown to the handler) may go first.
				execs = append(execs, pub{trace: trace, at: entries()})
			}
			if rng.IntN(4) == 0 {
				for range rng.IntN(6) {
					permits <- struct{}{}
				}
			}
		}
		close(permits)
		closeDispatcher(t, d)
		// The dispatcher's own gap markers are not critical events: they
		// count against the wait like market data.
		critical := func(ev *schema.CanonicalEvent) bool { return ev.Type.Critical() && ev.Type != schema.EventGap }
		at := map[uint64]int{}
		for i, ev := range log {
			if critical(ev) {
				at[ev.TraceID] = i
			}
		}
		require.Equal(t, len(execs), len(at), "seed %d: critical events lost", seed)
		prev := -1
		for _, e := range execs {
			i, ok := at[e.trace]
			require.True(t, ok)
			require.Greater(t, i, prev, "seed %d: critical events reordered", seed)
			prev = i
			market := 0
			for _, ev := range log[min(e.at, i):i] {
				if !critical(ev) {
					market++
				}
			}
			require.LessOrEqual(t, market, 1, "seed %d: report %d waited behind %d market data deliveries and markers",
				seed, e.trace, market)
		}
		require.Positive(t, s.Stats().Dropped, "seed %d: the subscriber never fell behind: the test proves nothing", seed)
		require.Zero(t, p.Stats().InUse)
	}
}

// overflowRig is a dispatcher with a stuck subscriber (critical bound 1)
// and a healthy one, and the given alarm.
func overflowRig(t *testing.T, alarm func(d *Dispatcher, s *Subscription, st Stats)) (d *Dispatcher, stuck *recorder, healthy *recorder) {
	t.Helper()
	p := newEventPool(8)
	var dp atomic.Pointer[Dispatcher]
	d = New(p, &Options{OnCriticalOverflow: func(s *Subscription, st Stats) { alarm(dp.Load(), s, st) }})
	dp.Store(d)
	stuck = newGatedRecorder()
	_, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: stuck.handle, CriticalBound: 1, Name: "stuck"})
	require.NoError(t, err)
	healthy = &recorder{}
	_, err = d.Subscribe(Filter{}, &SubscribeOptions{Handler: healthy.handle, Name: "healthy"})
	require.NoError(t, err)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 1)
	stuck.waitEntered(t)
	return d, stuck, healthy
}

// The alarm is the host's code: when it panics, the execution report that
// raised it still reaches every other subscriber and the pooled original
// still goes back to its pool. A panic in host code called from Publish
// must not cost a report (contract 3) or an event of the pool (contract 1).
func TestAdversarial2OverflowAlarmPanics(t *testing.T) {
	t.Parallel()
	var alarms atomic.Int32
	d, stuck, healthy := overflowRig(t, func(*Dispatcher, *Subscription, Stats) {
		alarms.Add(1)
		panic("host alarm bug")
	})
	p := d.events
	for i := uint64(2); i <= 6; i++ {
		ev := take(t, p, bin, "BTC-USDT", schema.EventExecReport, i)
		require.NotPanics(t, func() { _ = d.Publish(context.Background(), ev) }, "report %d", i)
		require.Zero(t, p.Stats().InUse, "report %d: the pooled original was not returned", i)
	}
	require.Equal(t, int32(1), alarms.Load(), "the alarm is raised once on the way over")
	eventually(t, func() bool { return len(healthy.got()) == 6 }, "the healthy subscriber got every report")
	stuck.open()
	closeDispatcher(t, d)
	require.Len(t, stuck.got(), 6, "the stuck subscriber lost reports")
}

// The documented use of the alarm — unsubscribe the stuck subscriber from
// inside it — does not deadlock the publisher, and the other subscribers
// get every report, in order.
func TestAdversarial2OverflowAlarmUnsubscribes(t *testing.T) {
	t.Parallel()
	d, stuck, healthy := overflowRig(t, func(d *Dispatcher, s *Subscription, _ Stats) {
		if err := d.Unsubscribe(s); err != nil {
			panic(err)
		}
	})
	p := d.events
	for i := uint64(2); i <= 50; i++ {
		publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, i)
	}
	eventually(t, func() bool { return len(healthy.got()) == 50 }, "the healthy subscriber got every report")
	for i, ev := range healthy.got() {
		require.Equal(t, uint64(i+1), ev.SeqProvider)
	}
	stuck.open()
	closeDispatcher(t, d)
	require.Zero(t, p.Stats().InUse)
}

// Events of a type this version does not know (a newer normalizer, a
// corrupt relay) and EventUnknown are market data of the ordered lane:
// routed, delivered in order or dropped with a marker, never a panic; a
// Filter naming such a type is no panic either.
func TestAdversarial2UnknownEventTypes(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	all := &recorder{}
	_, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: all.handle})
	require.NoError(t, err)
	odd := &recorder{}
	_, err = d.Subscribe(Filter{Types: []schema.EventType{schema.EventType(200), schema.EventUnknown, schema.EventType(255)}},
		&SubscribeOptions{Handler: odd.handle})
	require.NoError(t, err)
	types := []schema.EventType{schema.EventUnknown, schema.EventType(schema.NumEventTypes), schema.EventType(200), schema.EventType(255)}
	for i, typ := range types {
		require.NotPanics(t, func() { publish(t, d, p, bin, "BTC-USDT", typ, uint64(i+1)) })
	}
	closeDispatcher(t, d)
	require.Len(t, all.got(), len(types))
	// A filter can only name the types there are: 200 and 255 match
	// nothing, EventUnknown matches itself.
	got := odd.got()
	require.Len(t, got, 1)
	require.Equal(t, schema.EventUnknown, got[0].Type)
	require.Zero(t, p.Stats().InUse)
}

// Several publishers, subscribers coming and going, and Close racing the
// last publishes: every subscription that stays gets each publisher's
// critical events in order and none twice; every Publish returns its event
// to the pool, whatever it returned; no goroutine is left (goleak).
func TestAdversarial2PublishersRaceChurnAndClose(t *testing.T) {
	t.Parallel()
	p := newEventPool(64)
	d := New(p, nil)
	const publishers = 4
	type rec struct {
		mu   sync.Mutex
		last [publishers]uint64
		bad  string
	}
	check := func(r *rec) func(*schema.CanonicalEvent) {
		return func(ev *schema.CanonicalEvent) {
			if !ev.Type.Critical() || ev.Type == schema.EventGap {
				return
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			g := int(ev.TraceID)
			if ev.SeqProvider != r.last[g]+1 && r.bad == "" {
				r.bad = fmt.Sprintf("publisher %d: report %d after %d", g, ev.SeqProvider, r.last[g])
			}
			r.last[g] = ev.SeqProvider
		}
	}
	stay := &rec{}
	_, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: check(stay), OrderedBound: 2})
	require.NoError(t, err)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sent [publishers]atomic.Uint64
	for g := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			for seq := uint64(1); ; {
				select {
				case <-stop:
					return
				default:
				}
				ev, err := p.Get(context.Background())
				if err != nil {
					return
				}
				ev.Venue, ev.Symbol, ev.TraceID = bin, "BTC-USDT", uint64(g)
				ev.Type = []schema.EventType{schema.EventTrade, schema.EventBBO, schema.EventExecReport}[rng.IntN(3)]
				exec := ev.Type == schema.EventExecReport // ev is not ours after Publish
				if exec {
					ev.SeqProvider = seq
				}
				if d.Publish(context.Background(), ev) == ErrClosed {
					return
				}
				if exec {
					sent[g].Store(seq)
					seq++
				}
			}
		}()
	}
	// Churn: subscriptions of every kind come and go while events flow.
	churn := make(chan struct{})
	go func() {
		defer close(churn)
		rng := rand.New(rand.NewPCG(9, 9))
		for i := range 200 {
			opts := &SubscribeOptions{OrderedBound: 1 + rng.IntN(3), CriticalBound: 1 + rng.IntN(3)}
			if i%3 != 0 {
				opts.Handler = func(*schema.CanonicalEvent) {}
			}
			s, err := d.Subscribe(Filter{Types: []schema.EventType{schema.EventType(1 + rng.IntN(14))}}, opts)
			if err != nil {
				return
			}
			if opts.Handler == nil {
				go func() {
					for range s.C() {
					}
				}()
			}
			_ = d.Unsubscribe(s)
		}
	}()
	<-churn
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, d.Close(ctx))
	close(stop)
	wg.Wait()
	require.Zero(t, p.Stats().InUse, "an event published during Close was not returned")
	stay.mu.Lock()
	defer stay.mu.Unlock()
	require.Empty(t, stay.bad)
	for g := range publishers {
		require.LessOrEqual(t, stay.last[g], sent[g].Load()+1, "publisher %d", g)
	}
}

// A gap marker a venue parser (or a relay) publishes about one ordered
// stream marks a place in that stream: it is delivered after the stream's
// events published before it and before those published after it — not
// ahead of earlier events, where a strategy that resyncs its book on the
// marker would then apply diffs older than the resync. Execution reports
// still go first. When the lane is full the marker is never dropped: it
// waits, still ahead of the stream's next event, and its count is kept.
func TestAdversarial2VenueMarkerKeepsItsPlace(t *testing.T) {
	t.Parallel()
	for _, bound := range []int{64, 3, 1} {
		p := newEventPool(8)
		d := New(p, nil)
		r, s := stalled(t, d, p, SubscribeOptions{OrderedBound: bound}, schema.EventExecReport)
		diff := func(seq uint64) { publish(t, d, p, bin, "BTC-USDT", schema.EventBookUpdate, seq) }
		for seq := uint64(1); seq <= 4; seq++ {
			diff(seq)
		}
		g := take(t, p, bin, "BTC-USDT", schema.EventGap, 0)
		g.Control = &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapCount: 10,
			GapFirstSeq: 5, GapLastSeq: 14, GapSource: schema.GapVenue}
		require.NoError(t, d.Publish(context.Background(), g))
		publish(t, d, p, bin, "ETH-USDT", schema.EventTrade, 1) // another stream, after it
		publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 2)
		for seq := uint64(15); seq <= 16; seq++ {
			diff(seq)
		}
		r.open()
		closeDispatcher(t, d)
		got := r.got()[1:]
		require.Equal(t, schema.EventExecReport, got[0].Type, "bound %d: the report waited behind market data", bound)
		var seqs []uint64
		var lost, lostAll uint64
		for _, ev := range got[1:] {
			if ev.Type == schema.EventGap {
				lostAll += ev.Control.GapCount
			}
			if ev.Symbol != "BTC-USDT" {
				continue
			}
			if ev.Type == schema.EventGap {
				require.Equal(t, schema.EventBookUpdate, ev.Control.GapType)
				lost += ev.Control.GapCount
				seqs = append(seqs, 0)
				continue
			}
			seqs = append(seqs, ev.SeqProvider)
		}
		// Every diff is delivered or counted lost, and a marker never comes
		// before a diff older than what it reports.
		var delivered uint64
		last := uint64(0)
		for _, q := range seqs {
			if q != 0 {
				require.Greater(t, q, last, "bound %d: %v", bound, seqs)
				last = q
				delivered++
			}
		}
		require.Equal(t, uint64(16), delivered+lost, "bound %d: %v (lost %d)", bound, seqs, lost)
		for i, q := range seqs {
			if q == 0 {
				for _, later := range seqs[i+1:] {
					require.True(t, later == 0 || later >= 5, "bound %d: diff %d after the marker of the loss of 5..14: %v", bound, later, seqs)
				}
			}
		}
		require.Equal(t, 10+s.Stats().Dropped, lostAll, "bound %d: the markers count the venue's loss and the lane's drops", bound)
		require.Zero(t, p.Stats().InUse)
	}
}

// A subscriber of one stream's type hears of that stream's losses: a gap
// marker published about book diffs reaches a subscription whose Filter
// names only book diffs (as the dispatcher's own markers do), in its place;
// one that names gap markers gets it too; one of other types does not.
func TestAdversarial2MarkerReachesItsStreamsSubscribers(t *testing.T) {
	t.Parallel()
	p := newEventPool(8)
	d := New(p, nil)
	sub := func(types ...schema.EventType) *recorder {
		r := &recorder{}
		_, err := d.Subscribe(Filter{Types: types, Symbols: []string{"BTC-USDT"}}, &SubscribeOptions{Handler: r.handle})
		require.NoError(t, err)
		return r
	}
	books, gaps, both, trades := sub(schema.EventBookUpdate), sub(schema.EventGap), sub(schema.EventBookUpdate, schema.EventGap), sub(schema.EventTrade)
	publish(t, d, p, bin, "BTC-USDT", schema.EventBookUpdate, 1)
	g := take(t, p, bin, "BTC-USDT", schema.EventGap, 0)
	g.Control = &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapCount: 3, GapSource: schema.GapVenue}
	require.NoError(t, d.Publish(context.Background(), g))
	publish(t, d, p, bin, "BTC-USDT", schema.EventBookUpdate, 5)
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 1)
	closeDispatcher(t, d)
	want := []seen{{Type: schema.EventBookUpdate, Symbol: "BTC-USDT", Seq: 1}, {Type: schema.EventGap, Symbol: "BTC-USDT", Gap: schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapCount: 3, GapSource: schema.GapVenue}}, {Type: schema.EventBookUpdate, Symbol: "BTC-USDT", Seq: 5}}
	require.Equal(t, want, describe(books.got()), "a book subscriber never heard its book broke")
	require.Equal(t, want, describe(both.got()), "once, in place")
	require.Equal(t, want[1:2], describe(gaps.got()))
	require.Equal(t, []seen{{Type: schema.EventTrade, Symbol: "BTC-USDT", Seq: 1}}, describe(trades.got()))
	require.Zero(t, p.Stats().InUse)
}

// TestSubscriptionIdleIsABarrier: once Publish has returned, Idle stays
// false until the handler has returned for that event.
func TestSubscriptionIdleIsABarrier(t *testing.T) {
	pools := schema.NewPools(nil)
	d := New(pools.Events, nil)
	defer func() { require.NoError(t, d.Close(context.Background())) }()
	release := make(chan struct{})
	handled := make(chan struct{}, 1)
	sub, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {
		<-release
		handled <- struct{}{}
	}})
	require.NoError(t, err)
	require.Eventually(t, sub.Idle, patience, time.Millisecond, "a new subscription parks")
	ev, err := pools.Events.Get(context.Background())
	require.NoError(t, err)
	ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventTrade
	require.NoError(t, d.Publish(context.Background(), ev))
	require.False(t, sub.Idle(), "queued or in the handler")
	close(release)
	<-handled
	require.Eventually(t, sub.Idle, patience, time.Millisecond)
}
