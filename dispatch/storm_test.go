package dispatch

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestGapMarkerStorm replays issue #16's slow consumer on counted handler
// calls instead of a clock: the handler stands for a 20 ms strategy, and
// during each of its calls the feed publishes what a 3000 msg/s venue sends
// in 20 ms (60 market data events: trades, best bid/offers and book diffs
// on two symbols), plus an execution report or an order ack every third
// call. The subscription's ordered lane holds 64.
//
// It checks what the issue asks: every drop is reported by a marker that
// comes before the next event of its stream (the checker); markers merge,
// so most deliveries are data; and every execution report or order ack is
// delivered within one handler call (the one in progress when it was
// published) plus one per critical event queued ahead of it.
func TestGapMarkerStorm(t *testing.T) {
	t.Parallel()
	const (
		calls   = 600 // handler calls: 12 s of the slow strategy
		perCall = 60  // market data published during one handler call
	)
	p := newEventPool(8)
	d := New(p, nil)
	entered, gate := make(chan *schema.CanonicalEvent), make(chan struct{})
	s, err := d.Subscribe(Filter{}, &SubscribeOptions{OrderedBound: 64, Handler: func(ev *schema.CanonicalEvent) {
		entered <- ev
		<-gate
	}})
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(16, 5))
	f, traces := newFeed(), map[schema.Venue]uint64{}
	check := newChecker("storm", Filter{}, nil)
	pub := func(sym string, typ schema.EventType) {
		ev := take(t, p, bin, sym, typ, 0)
		f.stamp(ev, traces)
		require.NoError(t, d.Publish(context.Background(), ev))
	}
	type pendingCrit struct {
		trace uint64
		call  int // handler call in progress when it was published
		ahead int // critical events queued ahead of it then
	}
	var waiting []pendingCrit
	var markers, market, critical, worstWait int
	byType := map[schema.EventType]int{}

	pub("BTC-USDT", schema.EventTrade) // the first handler call
	for call := 0; call < calls; call++ {
		ev := <-entered
		check.handle(ev)
		switch typ := ev.Type; {
		case typ == schema.EventGap:
			markers++
			assert.Equal(t, schema.GapSubscriberQueue, ev.Control.GapSource)
		case typ.Critical():
			critical++
			require.NotEmpty(t, waiting)
			w := waiting[0]
			require.Equal(t, w.trace, ev.TraceID, "critical events in order")
			waiting = waiting[1:]
			wait := call - w.call
			worstWait = max(worstWait, wait)
			require.LessOrEqual(t, wait, 1+w.ahead, "an execution report waits at most the handler call in progress plus one per report ahead")
		default:
			market++
			byType[ev.Type]++
		}
		// What the venue sends while the handler works on ev.
		for range perCall {
			sym := []string{"BTC-USDT", "ETH-USDT"}[rng.IntN(2)]
			switch r := rng.IntN(100); {
			case r < 45:
				pub(sym, schema.EventTrade)
			case r < 95:
				pub(sym, schema.EventBBO)
			default:
				pub(sym, schema.EventBookUpdate)
			}
		}
		if call%3 == 0 {
			typ := schema.EventExecReport
			if call%9 == 0 {
				typ = schema.EventOrderAck
			}
			ahead := s.Stats().Critical
			pub("BTC-USDT", typ)
			waiting = append(waiting, pendingCrit{trace: traces[bin], call: call, ahead: ahead})
		}
		gate <- struct{}{}
	}
	close(gate) // let the rest through
	rest := make(chan struct{})
	go func() {
		defer close(rest)
		for ev := range entered {
			check.handle(ev)
		}
	}()
	closeDispatcher(t, d)
	close(entered)
	<-rest

	st := s.Stats()
	total := markers + market + critical
	t.Logf("market data by type: %v", byType)
	t.Logf("first %d deliveries: %d market data, %d critical, %d gap markers; worst critical wait %d handler calls; stats %+v",
		total, market, critical, markers, worstWait, st)
	assert.Positive(t, st.Dropped, "the subscriber fell behind")
	assert.Less(t, 3*markers, total, "markers merge: most deliveries are data")
	assert.Greater(t, market, markers)
	assert.Positive(t, byType[schema.EventTrade], "neither market data lane starves the other")
	assert.Positive(t, byType[schema.EventBBO])
	check.verify(t, []*feed{f}, st)
}
