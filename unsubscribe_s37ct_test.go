package meltica_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// Unsubscribe under churn (dispatch doc: Unsubscribe "ends s at once: it
// receives nothing more, what it had queued is released (counted in
// Stats.Discarded)"; the learned routes kept across Subscribe and
// Unsubscribe and swept every 64 Unsubscribes): trades of 40 symbols are
// published without pause while 400 subscriptions of one symbol each
// come and go. No handler call of a subscription begins after its
// Unsubscribe returned, each got only its symbol, each ends (Done) with
// nothing queued or in hand and its handler calls equal to Delivered;
// a subscriber of each symbol that stays gets every trade of it once, in
// order; and at the end no goroutine and no pooled event is left.
func TestS37ctUnsubscribeChurnNothingAfterReturn(t *testing.T) {
	const symbols, churns = 40, 400
	ctx := context.Background()
	before := goleak.IgnoreCurrent()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	sym := func(i int) string { return fmt.Sprintf("S%02d-USDT", i) }

	type stay struct {
		mu   sync.Mutex
		last uint64
		bad  int
		n    int
	}
	stays := make([]*stay, symbols)
	for i := range symbols {
		st := &stay{}
		stays[i] = st
		_, err := d.Subscribe(dispatch.Filter{Symbols: []string{sym(i)}, Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{OrderedBound: 1 << 20, Handler: func(ev *schema.CanonicalEvent) {
			st.mu.Lock()
			defer st.mu.Unlock()
			if ev.Symbol != sym(i) || ev.SeqProvider != st.last+1 {
				st.bad++
			}
			st.last = ev.SeqProvider
			st.n++
		}})
		require.NoError(t, err)
	}

	stop := make(chan struct{})
	rounds := make(chan struct{}, 8) // a round of trades per token: the publisher runs alongside, never far ahead
	more := func(n int) {
		for range n {
			select {
			case rounds <- struct{}{}:
			default:
			}
		}
	}
	var published atomic.Uint64
	var pub sync.WaitGroup
	pub.Add(1)
	pubDone := make(chan struct{})
	go func() {
		defer pub.Done()
		defer close(pubDone)
		for seq := uint64(1); ; seq++ {
			select {
			case <-rounds:
			case <-stop:
				return
			}
			for i := range symbols {
				ev, err := pools.Events.Get(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, sym(i), schema.EventTrade, seq
				if err := d.Publish(ctx, ev); err != nil {
					t.Error(err)
					return
				}
			}
			published.Store(seq)
		}
	}()

	var late, wrong atomic.Int64
	for c := range churns {
		want := sym(c % symbols)
		var gone atomic.Bool
		var calls atomic.Uint64
		first := make(chan struct{})
		var once sync.Once
		sub, err := d.Subscribe(dispatch.Filter{Symbols: []string{want}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
			if gone.Load() {
				late.Add(1)
			}
			if ev.Symbol != want {
				wrong.Add(1)
			}
			calls.Add(1)
			once.Do(func() { close(first) })
		}})
		require.NoError(t, err)
		more(4)
		select { // live: it has had an event
		case <-first:
		case <-pubDone:
			t.Fatal("the publisher ended")
		}
		more(4) // rounds published while it unsubscribes
		require.NoError(t, d.Unsubscribe(sub))
		gone.Store(true)
		select {
		case <-sub.Done():
		case <-ctxDone(t):
			t.Fatalf("subscription %d never done: %+v", c, sub.Stats())
		}
		st := sub.Stats()
		assert.Zero(t, st.Depth, "churn %d: nothing queued after Done", c)
		assert.Zero(t, st.InHand, "churn %d: nothing in hand after Done", c)
		assert.Equal(t, calls.Load(), st.Delivered, "churn %d: handler calls = Delivered", c)
		assert.ErrorIs(t, d.Unsubscribe(sub), dispatch.ErrUnknownSubscription, "churn %d: a second Unsubscribe", c)
	}
	close(stop)
	pub.Wait()
	assert.Zero(t, late.Load(), "handler calls begun after Unsubscribe returned")
	assert.Zero(t, wrong.Load(), "events of another symbol")

	n := published.Load()
	require.Positive(t, n)
	for i, st := range stays {
		require.Eventually(t, func() bool { st.mu.Lock(); defer st.mu.Unlock(); return uint64(st.n) >= n }, s27ctWait, s37ctTick, "symbol %d's subscriber", i)
	}
	cctx, cancel := context.WithTimeout(ctx, s27ctWait)
	defer cancel()
	require.NoError(t, d.Close(cctx))
	for i, st := range stays {
		st.mu.Lock()
		assert.Zero(t, st.bad, "symbol %d: out of order or another symbol", i)
		assert.Equal(t, n, uint64(st.n), "symbol %d: every trade once", i)
		st.mu.Unlock()
	}
	require.NoError(t, pools.Shutdown(cctx), "every pooled event back")
	assert.NoError(t, s37ctNoLeak(before), "every goroutine of the dispatcher's ended")
}

// ctxDone is closed after s27ctWait, or when the test ends.
func ctxDone(t *testing.T) <-chan struct{} {
	ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
	t.Cleanup(cancel)
	return ctx.Done()
}
