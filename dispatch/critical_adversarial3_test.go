package dispatch_test

// Adversarial tests, third round: contract 3, execution reports are never
// dropped, tried from outside the package with everything going wrong at
// once — a pool too small for the publishers, a subscriber that is stuck,
// one whose handler panics, ones that unsubscribe themselves mid-stream, a
// channel reader, a critical bound far too small, many publishing
// goroutines, and Close racing the publishers.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// execLog records the execution reports a subscriber got, per order (the
// order in TraceID, the report's number within its order in SeqProvider).
type execLog struct {
	mu     sync.Mutex
	orders map[uint64][]uint64
}

func (l *execLog) add(ev *schema.CanonicalEvent) {
	if ev.Type != schema.EventExecReport {
		return
	}
	l.mu.Lock()
	if l.orders == nil {
		l.orders = map[uint64][]uint64{}
	}
	l.orders[ev.TraceID] = append(l.orders[ev.TraceID], ev.SeqProvider)
	l.mu.Unlock()
}

func (l *execLog) snapshot() map[uint64][]uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[uint64][]uint64, len(l.orders))
	for k, v := range l.orders {
		out[k] = append([]uint64(nil), v...)
	}
	return out
}

// requirePrefixInOrder checks that every order's reports arrived in order,
// each once: 1, 2, 3, … with nothing skipped.
func requirePrefixInOrder(t *testing.T, name string, got map[uint64][]uint64) {
	t.Helper()
	for order, seqs := range got {
		for i, s := range seqs {
			require.Equal(t, uint64(i+1), s, "%s: order %d: report %d arrived as number %d (%v)", name, order, s, i+1, seqs)
		}
	}
}

func TestAdversarial3ExecReportsSurviveEverything(t *testing.T) {
	t.Parallel()
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			execStress(t, seed)
		})
	}
}

func execStress(t *testing.T, seed uint64) {
	const (
		publishers      = 6
		ordersPerPub    = 4
		eventsPerPub    = 600
		churners        = 4
		symbolsPerVenue = 3
	)
	p := adv3Pool(8) // far fewer than the publishers want at once: Get waits
	var overflows atomic.Int64
	d := dispatch.New(p, &dispatch.Options{OnCriticalOverflow: func(*dispatch.Subscription, dispatch.Stats) { overflows.Add(1) }})

	type sub struct {
		name string
		log  *execLog
		s    *dispatch.Subscription
		// complete: every report published before Close must be here
		complete bool
	}
	var subs []*sub
	add := func(name string, complete bool, f dispatch.Filter, o dispatch.SubscribeOptions, h func(l *execLog, ev *schema.CanonicalEvent)) *sub {
		x := &sub{name: name, log: &execLog{}, complete: complete}
		if h != nil {
			o.Handler = func(ev *schema.CanonicalEvent) { h(x.log, ev) }
		}
		s, err := d.Subscribe(f, &o)
		require.NoError(t, err)
		x.s = s
		subs = append(subs, x)
		return x
	}

	release := make(chan struct{})
	add("stuck", true, dispatch.Filter{}, dispatch.SubscribeOptions{OrderedBound: 4, CriticalBound: 2},
		func(l *execLog, ev *schema.CanonicalEvent) { <-release; l.add(ev) })
	add("panics", true, dispatch.Filter{}, dispatch.SubscribeOptions{OrderedBound: 2},
		func(l *execLog, ev *schema.CanonicalEvent) {
			l.add(ev)
			if ev.SeqProvider%3 == 0 {
				panic("subscriber bug")
			}
		})
	add("execs only", true, dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, dispatch.SubscribeOptions{CriticalBound: 1},
		func(l *execLog, ev *schema.CanonicalEvent) { l.add(ev) })
	add("one venue", true, dispatch.Filter{Venues: []schema.Venue{schema.VenueOKX}, Symbols: []string{"S0"}}, dispatch.SubscribeOptions{},
		func(l *execLog, ev *schema.CanonicalEvent) { l.add(ev) })
	chSub := add("channel", true, dispatch.Filter{}, dispatch.SubscribeOptions{OrderedBound: 1}, nil)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for ev := range chSub.s.C() {
			chSub.log.add(ev)
		}
	}()
	var churn []*sub
	for i := range churners {
		var x *sub
		n := 0
		limit := 20 + 37*i
		var once sync.Once
		x = add(fmt.Sprint("churn", i), false, dispatch.Filter{}, dispatch.SubscribeOptions{OrderedBound: 3},
			func(l *execLog, ev *schema.CanonicalEvent) {
				l.add(ev)
				if n++; n == limit {
					once.Do(func() { require.NoError(t, d.Unsubscribe(x.s)) })
				}
			})
		churn = append(churn, x)
	}

	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit}
	// accepted[order] = reports whose Publish returned nil, in order
	var accMu sync.Mutex
	accepted := map[uint64][]uint64{}
	var wg sync.WaitGroup
	half := make(chan struct{})
	var halfOnce sync.Once
	var published atomic.Int64
	for g := range publishers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			next := make([]uint64, ordersPerPub)
			ctx := context.Background()
			for range eventsPerPub {
				ev, err := p.Get(ctx)
				if errors.Is(err, context.Canceled) {
					return
				}
				require.NoError(t, err)
				v := venues[rng.IntN(len(venues))]
				ev.Venue, ev.Symbol = v, fmt.Sprint("S", rng.IntN(symbolsPerVenue))
				var order, seq uint64
				switch r := rng.IntN(10); {
				case r < 4:
					k := rng.IntN(ordersPerPub)
					next[k]++
					order, seq = uint64(g*100+k), next[k]
					ev.Type, ev.TraceID, ev.SeqProvider = schema.EventExecReport, order, seq
					ev.Venue, ev.Symbol = venues[k%len(venues)], fmt.Sprint("S", (k/len(venues))%symbolsPerVenue)
					ev.UseExec().ExecType, ev.UseExec().Status = schema.ExecTrade, schema.StatusPartiallyFilled
				case r < 6:
					ev.Type, ev.SeqProvider = schema.EventTrade, uint64(rng.IntN(1000))
				case r < 8:
					ev.Type = schema.EventBBO
					ev.BBO.BidPrice = schema.NewDecimal(int64(rng.IntN(1000)), 2)
				default:
					ev.Type = schema.EventBookUpdate
					ev.Book.LastSeq = uint64(rng.IntN(1000) + 1)
					ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.NewDecimal(1, 0), Qty: schema.NewDecimal(2, 0)})
				}
				err = d.Publish(ctx, ev)
				if errors.Is(err, dispatch.ErrClosed) {
					if order != 0 || seq != 0 {
						next[order%100]-- // not accepted: publish it no more, nor count it
					}
					return
				}
				require.NoError(t, err)
				if seq != 0 {
					accMu.Lock()
					accepted[order] = append(accepted[order], seq)
					accMu.Unlock()
				}
				if published.Add(1) == publishers*eventsPerPub/2 {
					halfOnce.Do(func() { close(half) })
				}
			}
		})
	}
	<-half
	close(release) // the stuck subscriber moves again, Close races the publishers
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, d.Close(ctx))
	wg.Wait()
	<-readerDone

	accMu.Lock()
	want := accepted
	accMu.Unlock()
	total := 0
	for _, v := range want {
		total += len(v)
	}
	require.Positive(t, total)
	for _, x := range subs {
		got := x.log.snapshot()
		requirePrefixInOrder(t, x.name, got)
		if !x.complete {
			continue
		}
		for order, seqs := range want {
			if k := order % 100; x.name == "one venue" && (venues[k%uint64(len(venues))] != schema.VenueOKX || (k/uint64(len(venues)))%symbolsPerVenue != 0) {
				continue
			}
			require.GreaterOrEqual(t, len(got[order]), len(seqs), "%s: order %d: reports accepted by Publish were not delivered", x.name, order)
		}
	}
	for _, x := range churn {
		<-x.s.Done()
	}
	require.Positive(t, overflows.Load(), "the tiny critical bounds went over")
	require.Zero(t, p.Stats().InUse, "every published original went back to the pool")
}
