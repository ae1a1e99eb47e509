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
//
// A subscriber that falls more than maxQuotes quotes behind (a machine
// loaded 20x starves its goroutine; about 1 run in 15) has the oldest
// dropped, each announced by a gap marker about its stream on the
// critical lane (contract 4, dropOldestQuoteLocked): a stream whose
// queued quote, its latest, was dropped so and that never quotes again
// ends on an older one. That is the contract kept, not broken: the
// subscriber was told, after that older quote, that the stream's quotes
// are stale. A stream's latest may be missing only so.
func TestS24rvReportsThroughKeySpaceChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes 100k events")
	}
	keySpaceChurn(t, false)
}

// keySpaceChurn runs TestS24rvReportsThroughKeySpaceChurn; hold holds the
// subscriber's handler at its first event until every event is published.
// It returns the streams whose latest quote was lost and announced.
func keySpaceChurn(t *testing.T, hold bool) (announced int) {
	var held chan struct{}
	if hold {
		held = make(chan struct{})
	}
	p := newEventPool(256)
	d := New(p, nil)
	const publishers, reports = 3, 2000
	var mu sync.Mutex
	next := make([]uint64, publishers)
	last := map[string]int64{}
	told := map[string]bool{} // a marker about the stream's quotes came after its last
	var fault string
	s, err := d.Subscribe(Filter{Types: []schema.EventType{schema.EventExecReport, schema.EventBBO}}, &SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		if held != nil {
			<-held
		}
		mu.Lock()
		defer mu.Unlock()
		switch ev.Type {
		case schema.EventGap:
			if ev.Control.GapType == schema.EventBBO && ev.Control.GapSource == schema.GapSubscriberQueue {
				if ev.Symbol != "" {
					told[ev.Symbol] = true
					break
				}
				for w := range publishers { // every symbol of the venue
					for i := range 50 {
						told["BACK-"+strconv.Itoa(w)+"-"+strconv.Itoa(i)] = true
					}
				}
			}
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
			delete(told, ev.Symbol)
		}
	}})
	require.NoError(t, err)
	// The race detector's run scales the bounds down by 8 (the index's
	// generations, the subscriber's quotes queued) and the streams with
	// them: its 3 x 2000 x 4 new streams still pass the index's two
	// generations and the subscriber's slot floor (minSlots) several
	// times, and a held subscriber still passes its quote bound.
	floor, spread := raceFloor(d.idx.Load()), 2
	if raceEnabled {
		spread = 1
		s.mu.Lock()
		s.quoteBound = maxQuotes / 8
		s.mu.Unlock()
	}
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
	// end: routes pass generations, slots are swept, many times over (the
	// race detector's run: floor + minSlots, see above).
	var wg sync.WaitGroup
	for w := range publishers {
		wg.Go(func() {
			for i := range reports {
				publish("EXEC-"+strconv.Itoa(w), schema.EventExecReport, uint64(i+1), int64(i))
				for j := range (floor + minSlots) / reports * spread { // streams without end
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
	if held != nil {
		close(held)
	}
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
			if last[sym] != int64(reports-50+i) && told[sym] {
				announced++ // dropped past maxQuotes, and the subscriber told
				continue
			}
			require.Equal(t, int64(reports-50+i), last[sym], "%s: the latest best bid/offer lost", sym)
		}
	}
	closeDispatcher(t, d)
	return announced
}
