package meltica_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// s35ctSeqs records the SeqProvider of every execution report a handler
// gets.
type s35ctSeqs struct {
	mu   sync.Mutex
	seqs []uint64
}

func (s *s35ctSeqs) handle(ev *schema.CanonicalEvent) {
	if ev.Type != schema.EventExecReport {
		return
	}
	s.mu.Lock()
	s.seqs = append(s.seqs, ev.SeqProvider)
	s.mu.Unlock()
}

func (s *s35ctSeqs) get() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint64(nil), s.seqs...)
}

// Execution reports are never lost, also to a subscriber that joins or
// leaves while they flow (dispatch: "A Subscribe or an Unsubscribe keeps
// what was learned: a stream's route is brought up to date on its next
// Publish by the changes since (the last 64)… an Unsubscribe started
// afresh before"; critical events are "never dropped" and keep their
// order). One goroutine publishes 600 execution reports of one order
// stream, numbered, between trades and quotes of 40 other symbols (routes
// to learn), while the host subscribes 120 report handlers one after
// another (one each 4 reports) and unsubscribes one of every three soon after — far more than
// 64 changes, so routes are brought up to date and started afresh while
// reports are published. A subscription still there at the end got every
// report whose Publish began after its Subscribe returned, once each and
// in order; one unsubscribed got what it got in order, once.
func TestS35ctReportsReachASubscriberThatJoinsDuringTheFlood(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	const reports = 600
	var started atomic.Uint64 // the number of the report being published, set before Publish
	var joinedN atomic.Uint64 // subscriptions made so far: the flood waits for them, so they join during it
	flood := make(chan error, 1)
	go func() {
		defer close(flood)
		for n := uint64(1); n <= reports; n++ {
			for joinedN.Load() < min(n/4, 120) {
				runtime.Gosched()
			}
			for _, k := range []int{int(n) % 40, int(n+20) % 40} {
				sym := fmt.Sprintf("S%d-USDT", k)
				ev, err := pools.Events.Get(ctx)
				if err != nil {
					flood <- err
					return
				}
				ev.Venue, ev.Symbol, ev.SeqProvider = schema.VenueBinance, sym, n
				if k%2 == 0 {
					ev.Type = schema.EventTrade
					ev.Trade.Price, ev.Trade.Qty = schema.MustParseDecimal("1"), schema.MustParseDecimal("1")
				} else {
					ev.Type = schema.EventBBO
					ev.BBO.BidPrice, ev.BBO.AskPrice = schema.MustParseDecimal("1"), schema.MustParseDecimal("2")
				}
				if err := d.Publish(ctx, ev); err != nil {
					flood <- err
					return
				}
			}
			ev, err := pools.Events.Get(ctx)
			if err != nil {
				flood <- err
				return
			}
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventExecReport, n
			x := ev.UseExec()
			x.ClientOrderID, x.ExecType, x.Status = schema.MustID("o-1"), schema.ExecTrade, schema.StatusPartiallyFilled
			started.Store(n)
			if err := d.Publish(ctx, ev); err != nil {
				flood <- err
				return
			}
		}
	}()

	type joined struct {
		sub  *dispatch.Subscription
		seqs *s35ctSeqs
		from uint64 // reports numbered above it began after Subscribe returned
		left bool
	}
	var subs []joined
	filters := []dispatch.Filter{
		{Types: []schema.EventType{schema.EventExecReport}},
		{Symbols: []string{"BTC-USDT"}},
		{Venues: []schema.Venue{schema.VenueBinance}, Types: []schema.EventType{schema.EventExecReport, schema.EventTrade}},
	}
	for i := range 120 {
		for started.Load() < uint64(i*4) { // spread over the flood: a wait on its progress, not on time
			runtime.Gosched()
		}
		seqs := &s35ctSeqs{}
		sub, err := d.Subscribe(filters[i%len(filters)], &dispatch.SubscribeOptions{Handler: seqs.handle})
		require.NoError(t, err)
		subs = append(subs, joined{sub: sub, seqs: seqs, from: started.Load()})
		joinedN.Add(1)
		if i%3 != 0 && i > 0 {
			prev := &subs[i-1]
			if !prev.left && (i-1)%3 != 0 {
				require.NoError(t, d.Unsubscribe(prev.sub))
				prev.left = true
			}
		}
	}
	require.NoError(t, <-flood)
	require.NoError(t, d.Close(ctx))

	kept := 0
	for i, j := range subs {
		got := j.seqs.get()
		for k := 1; k < len(got); k++ {
			require.Greater(t, got[k], got[k-1], "subscription %d (left %v): reports out of order or twice", i, j.left)
		}
		if j.left {
			continue
		}
		kept++
		var want []uint64
		for n := j.from + 1; n <= reports; n++ {
			want = append(want, n)
		}
		tail := got
		for len(tail) > 0 && tail[0] <= j.from {
			tail = tail[1:]
		}
		if !assert.Equal(t, len(want), len(tail), "subscription %d joined after report %d: reports lost (%+v)", i, j.from, j.sub.Stats()) {
			continue
		}
		assert.Equal(t, want, tail, "subscription %d", i)
	}
	require.NotZero(t, kept)
	t.Logf("%d subscriptions kept; the first joined after report %d, the last after %d", kept, subs[0].from, subs[len(subs)-1].from)
	require.NoError(t, pools.Shutdown(ctx))
}
