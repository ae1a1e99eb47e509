package dispatch

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// S43rv: Close waits for a handler call still running even when its
// subscription was unsubscribed before Close, inline as queued: a host
// that unsubscribes, closes and then tears down what the handler uses
// must not find Close returned nil while the handler still runs. Close
// with a context already ended reports the call in CloseError.Running
// (deterministic: the only lane is not done); before the fix the inline
// subscription was forgotten at Unsubscribe and Close returned nil.
func TestS43rvCloseWaitsForAnUnsubscribedCallRunning(t *testing.T) {
	for _, inline := range []bool{false, true} {
		p := newEventPool(8)
		d := New(p, nil)
		in, release := make(chan struct{}, 1), make(chan struct{})
		s, err := d.Subscribe(Filter{}, &SubscribeOptions{Inline: inline, Handler: func(*schema.CanonicalEvent) {
			in <- struct{}{}
			<-release
		}})
		require.NoError(t, err)
		published := make(chan error, 1)
		go func() {
			published <- d.Publish(context.Background(), take(t, p, bin, "BTC-USDT", schema.EventTrade, 1))
		}()
		wait(t, in, "the call")
		require.NoError(t, d.Unsubscribe(s))

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err = d.Close(ctx)
		var ce *CloseError
		require.ErrorAs(t, err, &ce, "inline=%v: Close returned while the handler still runs", inline)
		require.Equal(t, 1, ce.Running, "inline=%v", inline)

		close(release)
		require.NoError(t, wait(t, published, "the Publish"))
		waitDone(t, s)
		require.Zero(t, p.Stats().InUse)
	}
}

// S43rv: an inline handler that publishes to the same dispatcher in the
// middle of a publish whose clones span several slabs (a book large
// enough that a slab holds a few clones) gets, and leaves every later
// subscriber, the outer event intact: the nested publish carves its
// clones from slabs of its own and never writes over the outer publish's.
// Each clone is checked whole (levels, scalars, Exec section) after both
// publishes, every clone is its own memory, and a queued subscriber among
// them gets both events.
func TestS43rvNestedPublishLeavesTheOuterClonesIntact(t *testing.T) {
	const subs, levels = 20, 300
	p := newEventPool(8)
	d := New(p, nil)
	fill := func(ev *schema.CanonicalEvent, base int64) {
		for i := range int64(levels) {
			ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.NewDecimal(base+i, 2), Qty: schema.NewDecimal(base-i, 3)})
		}
		ev.Book.LastSeq = uint64(base)
		ev.UseExec().ClientOrderID = schema.MustID(fmt.Sprint("c", base))
	}
	check := func(ev *schema.CanonicalEvent, base int64) {
		t.Helper()
		require.Len(t, ev.Book.Bids, levels)
		for i := range int64(levels) {
			require.Equal(t, schema.Level{Price: schema.NewDecimal(base+i, 2), Qty: schema.NewDecimal(base-i, 3)}, ev.Book.Bids[i])
		}
		require.Equal(t, uint64(base), ev.Book.LastSeq)
		require.NotNil(t, ev.Exec)
		require.Equal(t, schema.MustID(fmt.Sprint("c", base)), ev.Exec.ClientOrderID)
	}
	got := make([][]*schema.CanonicalEvent, subs) // publisher's goroutine only
	for k := range subs {
		inlineSub(t, d, Filter{}, func(ev *schema.CanonicalEvent) {
			got[k] = append(got[k], ev)
			if k == 3 && ev.SeqProvider == 1 {
				nested := take(t, p, bin, "BTC-USDT", schema.EventBookUpdate, 2)
				fill(nested, 5000)
				require.NoError(t, d.Publish(context.Background(), nested))
			}
		})
		if k == 10 {
			_, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
			require.NoError(t, err)
		}
	}
	outer := take(t, p, bin, "BTC-USDT", schema.EventBookUpdate, 1)
	fill(outer, 1000)
	require.NoError(t, d.Publish(context.Background(), outer))
	seen := map[*schema.CanonicalEvent]bool{}
	for k := range subs {
		require.Len(t, got[k], 2, "subscriber %d", k)
		for _, ev := range got[k] {
			require.False(t, seen[ev], "subscriber %d shares a clone", k)
			seen[ev] = true
			check(ev, map[uint64]int64{1: 1000, 2: 5000}[ev.SeqProvider])
		}
	}
	require.Zero(t, p.Stats().InUse)
	closeDispatcher(t, d)
}

// S43rv: a Goexit in a handler of a nested publish unwinds through the
// outer handler's call too: both publishes still hand their execution
// report to every later subscriber (contract 3), a panicking one among
// them, both originals go back to the pool, and the subscriptions whose
// calls the Goexit ended (the nested one's and the outer one's) end.
func TestS43rvGoexitInANestedPublishKeepsBothReports(t *testing.T) {
	p := newEventPool(8)
	d := New(p, nil)
	outer := inlineSub(t, d, Filter{}, func(ev *schema.CanonicalEvent) {
		if ev.SeqProvider == 1 {
			_ = d.Publish(context.Background(), take(t, p, bin, "BTC-USDT", schema.EventExecReport, 2))
		}
	})
	quitter := inlineSub(t, d, Filter{}, func(ev *schema.CanonicalEvent) {
		if ev.SeqProvider == 2 {
			runtime.Goexit()
		}
	})
	inlineSub(t, d, Filter{}, func(*schema.CanonicalEvent) { panic("bug") })
	var mu sync.Mutex
	var later []uint64
	inlineSub(t, d, Filter{}, func(ev *schema.CanonicalEvent) {
		mu.Lock()
		later = append(later, ev.SeqProvider)
		mu.Unlock()
	})
	queued := &recorder{}
	_, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: queued.handle})
	require.NoError(t, err)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		_ = d.Publish(context.Background(), take(t, p, bin, "BTC-USDT", schema.EventExecReport, 1))
	}()
	wait(t, ended, "the publisher's goroutine")
	waitDone(t, quitter)
	waitDone(t, outer)
	mu.Lock()
	require.ElementsMatch(t, []uint64{1, 2}, later)
	mu.Unlock()
	require.Zero(t, p.Stats().InUse)
	closeDispatcher(t, d)
	require.Len(t, queued.got(), 2)
}

// S43rv: Close racing three publishers of execution reports to inline
// subscribers (one unsubscribing itself on the way): once Close returns
// nil no handler is entered any more (a call admitted before it is one
// Close waits for) and none is entered after its Done closed, every Publish that returned nil reached every
// subscriber still subscribed, each Done is closed (once: a second close
// would panic), and every original is back in its pool.
func TestS43rvCloseRacesSeveralPublishers(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	var closed atomic.Bool
	var lateCalls atomic.Int64
	const n = 3
	var calls [n]atomic.Uint64
	subs := make([]*Subscription, n)
	for k := range n {
		subs[k] = inlineSub(t, d, Filter{}, func(ev *schema.CanonicalEvent) {
			select {
			case <-subs[k].Done(): // no call can start once Done is closed
				lateCalls.Add(1)
			default:
				if closed.Load() {
					lateCalls.Add(1)
				}
			}
			calls[k].Add(1)
			if k == 0 {
				runtime.Gosched() // often in this call when Close comes: the later ones are its to refuse
			}
			if k == 2 && ev.SeqProvider == 50 {
				_ = d.Unsubscribe(subs[2])
			}
		})
	}
	var delivered atomic.Uint64 // Publishes that returned nil
	var wg sync.WaitGroup
	started := make(chan struct{}, n)
	for g := range n {
		wg.Go(func() {
			for i := uint64(1); ; i++ {
				ev, err := p.TryGet()
				if err != nil {
					t.Error(err)
					return
				}
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, fmt.Sprint("S", g), schema.EventExecReport, i
				if i == 100 {
					started <- struct{}{}
				}
				if err := d.Publish(context.Background(), ev); err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Error(err)
					}
					return
				}
				delivered.Add(1)
			}
		})
	}
	for range n {
		wait(t, started, "the publishers")
	}
	closeDispatcher(t, d)
	closed.Store(true)
	wg.Wait()
	require.Zero(t, lateCalls.Load(), "a handler entered after Close returned or after its Done closed")
	for k := range n {
		waitDone(t, subs[k])
		if k < 2 {
			require.GreaterOrEqual(t, calls[k].Load(), delivered.Load(), "subscriber %d", k)
			require.Equal(t, calls[k].Load(), subs[k].Stats().Delivered)
		}
	}
	require.Zero(t, p.Stats().InUse)
}
