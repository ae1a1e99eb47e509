package dispatch

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Review s24rv: execution reports are never lost (DESIGN.md, contract 3),
// and a stream's events keep their order, while everything the bounded key
// space does happens at once on other goroutines: publishers on streams
// without end (routes passing generations, coalescing slots swept), other
// subscriptions coming and going (the index made again), best bid/offers
// of quiet streams coming back. A subscriber there from the start gets
// every report of each publisher once, in order, and each stream's last
// best bid/offer.
func TestS24rvReportsThroughKeySpaceChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes 100k events")
	}
	p := newEventPool(256)
	d := New(p, nil)
	const publishers, reports = 3, 2000
	var mu sync.Mutex
	next := make([]uint64, publishers)
	last := map[string]int64{}
	var fault string
	s, err := d.Subscribe(Filter{Types: []schema.EventType{schema.EventExecReport, schema.EventBBO}}, &SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		mu.Lock()
		defer mu.Unlock()
		switch ev.Type {
		case schema.EventExecReport:
			w, _ := strconv.Atoi(ev.Symbol[len("EXEC-"):])
			if ev.SeqProvider != next[w]+1 && fault == "" {
				fault = "publisher " + ev.Symbol + ": report " + strconv.FormatUint(ev.SeqProvider, 10) + " after " + strconv.FormatUint(next[w], 10)
			}
			next[w] = ev.SeqProvider
		case schema.EventBBO:
			if ev.ExchangeTS < last[ev.Symbol] && fault == "" {
				fault = "stream " + ev.Symbol + " went back in time"
			}
			last[ev.Symbol] = ev.ExchangeTS
		}
	}})
	require.NoError(t, err)
	ctx := context.Background()
	publish := func(sym string, typ schema.EventType, seq uint64, ts int64) {
		ev, err := p.Get(ctx)
		if err != nil {
			panic(err)
		}
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider, ev.ExchangeTS = bin, sym, typ, seq, ts
		if err := d.Publish(ctx, ev); err != nil {
			panic(err)
		}
	}
	// Each publisher names 2 x (maxRoutes + minSlots) streams without
	// end: routes pass generations, slots are swept, many times over. The
	// race detector's run names half as many: the three publishers'
	// 110k streams still pass the index's two generations (2 x maxRoutes)
	// and the subscriber's slot floor (minSlots) over and over.
	spread := 2
	if raceEnabled {
		spread = 1
	}
	var wg sync.WaitGroup
	for w := range publishers {
		wg.Go(func() {
			for i := range reports {
				publish("EXEC-"+strconv.Itoa(w), schema.EventExecReport, uint64(i+1), int64(i))
				for j := range (maxRoutes + minSlots) / reports * spread { // streams without end
					publish("GONE-"+strconv.Itoa(w)+"-"+strconv.Itoa(i)+"-"+strconv.Itoa(j), schema.EventBBO, 1, 1)
				}
				publish("BACK-"+strconv.Itoa(w)+"-"+strconv.Itoa(i%50), schema.EventBBO, 1, int64(i)) // quiet streams coming back
			}
		})
	}
	wg.Go(func() { // subscriptions coming and going
		for i := range 300 {
			o, err := d.Subscribe(Filter{Symbols: []string{"BACK-0-" + strconv.Itoa(i%50)}}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
			if err != nil {
				panic(err)
			}
			if err := d.Unsubscribe(o); err != nil {
				panic(err)
			}
		}
	})
	wg.Wait()
	eventually(t, s.Idle, "delivery")
	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, fault)
	for w := range publishers {
		require.Equal(t, uint64(reports), next[w], "publisher %d: reports lost", w)
	}
	for w := range publishers {
		for i := range 50 {
			sym := "BACK-" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
			require.Equal(t, int64(reports-50+i), last[sym], "%s: the latest best bid/offer lost", sym)
		}
	}
	closeDispatcher(t, d)
}
