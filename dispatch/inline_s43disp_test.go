package dispatch

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// inlineSub subscribes an inline handler to f and requires success.
func inlineSub(t testing.TB, d *Dispatcher, f Filter, h func(*schema.CanonicalEvent)) *Subscription {
	t.Helper()
	s, err := d.Subscribe(f, &SubscribeOptions{Inline: true, Handler: h})
	require.NoError(t, err)
	return s
}

// wait receives from c, or fails the test after patience.
func wait[T any](t testing.TB, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(patience):
		t.Fatal("timed out waiting: " + what)
		var zero T
		return zero
	}
}

// S43: Inline needs a Handler; without one Subscribe refuses with a typed
// error and subscribes nothing.
func TestS43dispInlineNeedsAHandler(t *testing.T) {
	p := newEventPool(4)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, &SubscribeOptions{Inline: true})
	require.Nil(t, s)
	var oe *OptionsError
	require.ErrorAs(t, err, &oe)
	require.Equal(t, "Inline", oe.Field)
	require.ErrorIs(t, err, ErrBadOptions)
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 1)
	require.Zero(t, p.Stats().InUse)
	closeDispatcher(t, d)
}

// S43: an inline handler runs inside Publish, on the publisher's
// goroutine (the plain variable below is written by the handler and read
// after Publish with no synchronisation: -race fails it if the handler
// ran elsewhere), with its own clone, which it keeps and may change; the
// original is back in its pool when Publish returns. Filters route as for
// a queued subscription, which gets its own clone beside it.
func TestS43dispInlineRunsInsidePublishWithItsOwnClone(t *testing.T) {
	p := newEventPool(8)
	d := New(p, nil)
	var got []*schema.CanonicalEvent // no lock: the publisher's goroutine only
	s := inlineSub(t, d, Filter{Symbols: []string{"BTC-USDT"}}, func(ev *schema.CanonicalEvent) { got = append(got, ev) })
	other := &recorder{}
	_, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: other.handle})
	require.NoError(t, err)
	var second []*schema.CanonicalEvent
	inlineSub(t, d, Filter{}, func(ev *schema.CanonicalEvent) { second = append(second, ev) })

	for i := uint64(1); i <= 3; i++ {
		ev := take(t, p, bin, "BTC-USDT", schema.EventTrade, i)
		ev.Trade.Price = schema.NewDecimal(int64(100+i), 0)
		require.NoError(t, d.Publish(context.Background(), ev))
		require.Len(t, got, int(i), "handled before Publish returned")
		require.Zero(t, p.Stats().InUse, "the original is back in its pool")
	}
	publish(t, d, p, bin, "ETH-USDT", schema.EventTrade, 4) // not s's symbol
	require.Len(t, got, 3)
	require.Len(t, second, 4)
	for i, ev := range got {
		require.False(t, p.Owns(ev), "a clone, not a pooled original")
		require.Equal(t, uint64(i+1), ev.SeqProvider)
		require.Equal(t, schema.NewDecimal(int64(101+i), 0), ev.Trade.Price)
		require.NotSame(t, ev, second[i], "each subscriber its own")
		ev.Trade.Price = schema.NewDecimal(1, 0) // the handler's to change
		require.Equal(t, schema.NewDecimal(int64(101+i), 0), second[i].Trade.Price)
	}
	st := s.Stats()
	require.Equal(t, uint64(3), st.Delivered)
	require.Zero(t, st.InHand)
	require.Zero(t, st.Depth)
	require.True(t, s.Idle())
	closeDispatcher(t, d)
	require.Len(t, other.got(), 4)
	waitDone(t, s)
}

// S43: calls of one inline handler from two publishers may overlap: the
// doc says so, and the dispatcher must not serialise them (one venue's
// reader would wait behind another venue's handler). Each handler call
// below waits until the other publisher's call has entered: a lock around
// the calls would hang it. Per stream, order is the publish order.
func TestS43dispInlineCallsFromTwoPublishersOverlap(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	const per = 200
	var mu sync.Mutex
	bySymbol := map[string][]uint64{}
	entered := map[string]chan struct{}{"A": make(chan struct{}), "B": make(chan struct{})}
	inlineSub(t, d, Filter{}, func(ev *schema.CanonicalEvent) {
		if ev.SeqProvider == 1 { // both first calls meet
			close(entered[ev.Symbol])
			peer := map[string]string{"A": "B", "B": "A"}[ev.Symbol]
			wait(t, entered[peer], "the other publisher's call, at the same time")
		}
		mu.Lock()
		bySymbol[ev.Symbol] = append(bySymbol[ev.Symbol], ev.SeqProvider)
		mu.Unlock()
	})
	var wg sync.WaitGroup
	for _, sym := range []string{"A", "B"} {
		wg.Go(func() {
			for i := uint64(1); i <= per; i++ {
				ev, err := p.TryGet()
				if err != nil {
					t.Error(err)
					return
				}
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, sym, schema.EventTrade, i
				if err := d.Publish(context.Background(), ev); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, sym := range []string{"A", "B"} {
		require.Len(t, bySymbol[sym], per)
		for i, seq := range bySymbol[sym] {
			require.Equal(t, uint64(i+1), seq, "publish order per stream")
		}
	}
	require.Zero(t, p.Stats().InUse)
	closeDispatcher(t, d)
}

// S43: an inline handler may call Publish (also of an event that reaches
// itself: a nested call, counted in hand), Stats, and Unsubscribe of its
// own subscription; none of it deadlocks, and the subscription ends once
// its last call returns.
func TestS43dispInlineHandlerReentersTheDispatcher(t *testing.T) {
	p := newEventPool(8)
	d := New(p, nil)
	queued := &recorder{}
	_, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: queued.handle})
	require.NoError(t, err)
	var self *Subscription
	var seqs []uint64
	var nested Stats
	self = inlineSub(t, d, Filter{}, func(ev *schema.CanonicalEvent) {
		seqs = append(seqs, ev.SeqProvider)
		switch ev.SeqProvider {
		case 1:
			publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 2) // reaches this handler too, nested
		case 2:
			nested = self.Stats()
			require.NoError(t, d.Unsubscribe(self))
			publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 3) // not to self any more
		}
	})
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 1)
	require.Equal(t, []uint64{1, 2}, seqs)
	require.Equal(t, 2, nested.InHand, "the outer call and the nested one")
	require.Equal(t, schema.EventTrade, nested.InHandType)
	require.Zero(t, nested.Delivered)
	waitDone(t, self)
	st := self.Stats()
	require.Equal(t, uint64(2), st.Delivered)
	require.Zero(t, st.InHand)
	require.ErrorIs(t, d.Unsubscribe(self), ErrUnknownSubscription)
	require.Zero(t, p.Stats().InUse)
	closeDispatcher(t, d)
	require.Len(t, queued.got(), 3)
}

// S43: Unsubscribe does not wait for a call running on another goroutine
// (it may be nested in it); from its return no call starts, and Done is
// closed once the one running returns — not before.
func TestS43dispInlineUnsubscribeWhileACallRuns(t *testing.T) {
	p := newEventPool(8)
	d := New(p, nil)
	in, release := make(chan uint64, 4), make(chan struct{})
	s := inlineSub(t, d, Filter{}, func(ev *schema.CanonicalEvent) {
		in <- ev.SeqProvider
		<-release
	})
	published := make(chan error, 1)
	go func() {
		published <- d.Publish(context.Background(), take(t, p, bin, "BTC-USDT", schema.EventTrade, 1))
	}()
	require.Equal(t, uint64(1), wait(t, in, "the first call"))
	st := s.Stats()
	require.Equal(t, 1, st.InHand)
	require.Equal(t, schema.EventTrade, st.InHandType)
	require.False(t, s.Idle())

	require.NoError(t, d.Unsubscribe(s))
	select {
	case <-s.Done():
		t.Fatal("Done closed while a call still runs")
	default:
	}
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 2) // after Unsubscribe: not called
	close(release)
	require.NoError(t, wait(t, published, "the first Publish"))
	waitDone(t, s)
	require.Empty(t, in, "no call after Unsubscribe")
	st = s.Stats()
	require.Equal(t, uint64(1), st.Delivered)
	require.Zero(t, st.InHand)
	require.Zero(t, p.Stats().InUse)
	closeDispatcher(t, d)
}

// S43: Close from inside an inline handler is refused (it would wait for
// the very call it is made from) and closes nothing; Close from outside
// does not hang on a call running beyond its context: it reports it
// running, and Done closes when the call returns.
func TestS43dispInlineClose(t *testing.T) {
	p := newEventPool(8)
	d := New(p, nil)
	closeErr := make(chan error, 1)
	var got []uint64
	s := inlineSub(t, d, Filter{}, func(ev *schema.CanonicalEvent) {
		got = append(got, ev.SeqProvider)
		if ev.SeqProvider == 1 {
			closeErr <- d.Close(context.Background())
		}
	})
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 1)
	require.ErrorIs(t, <-closeErr, ErrCloseInHandler)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 2) // still open
	require.Equal(t, []uint64{1, 2}, got)

	in2, release2 := make(chan struct{}, 1), make(chan struct{})
	s2 := inlineSub(t, d, Filter{Types: []schema.EventType{schema.EventTrade}}, func(*schema.CanonicalEvent) {
		in2 <- struct{}{}
		<-release2
	})
	published := make(chan error, 1)
	go func() {
		published <- d.Publish(context.Background(), take(t, p, bin, "BTC-USDT", schema.EventTrade, 3))
	}()
	wait(t, in2, "the long call")
	// A failure guard, not a timing: Close can only end by its context.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := d.Close(ctx)
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, 1, ce.Running)
	require.Zero(t, ce.Discarded)
	waitDone(t, s) // no call running: done at Close
	require.ErrorIs(t, d.Publish(context.Background(), take(t, p, bin, "BTC-USDT", schema.EventTrade, 4)), ErrClosed)
	close(release2)
	require.NoError(t, wait(t, published, "the Publish of the long call"))
	waitDone(t, s2)
	require.Equal(t, uint64(1), s2.Stats().Delivered)
	require.Zero(t, p.Stats().InUse)
}

// S43: a panic in an inline handler is recovered on the publisher's
// goroutine as a queued handler's is: counted, given to OnPanic, the
// event counted delivered; Publish returns nil, the subscribers after it
// get the event, and the subscription goes on.
func TestS43dispInlinePanicIsRecovered(t *testing.T) {
	p := newEventPool(8)
	d := New(p, nil)
	var onPanic []any
	s, err := d.Subscribe(Filter{}, &SubscribeOptions{Inline: true,
		Handler: func(ev *schema.CanonicalEvent) {
			if ev.SeqProvider == 1 {
				panic("handler bug")
			}
		},
		OnPanic: func(ev *schema.CanonicalEvent, v any) {
			onPanic = append(onPanic, fmt.Sprintf("%d %v", ev.SeqProvider, v))
		},
	})
	require.NoError(t, err)
	var after []uint64
	inlineSub(t, d, Filter{}, func(ev *schema.CanonicalEvent) { after = append(after, ev.SeqProvider) })
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 1)
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 2)
	require.Equal(t, []any{"1 handler bug"}, onPanic)
	require.Equal(t, []uint64{1, 2}, after)
	st := s.Stats()
	require.Equal(t, uint64(1), st.Panics)
	require.Equal(t, uint64(2), st.Delivered)
	require.Zero(t, p.Stats().InUse)
	closeDispatcher(t, d)
}

// S43: a handler that ends the publisher's goroutine with runtime.Goexit
// (t.FailNow in a test's handler) costs the subscribers after it nothing:
// an execution report still reaches them (contract 3), the original goes
// back, and the subscription ends as a queued one does.
func TestS43dispInlineGoexitKeepsTheEventForTheRest(t *testing.T) {
	p := newEventPool(8)
	d := New(p, nil)
	s := inlineSub(t, d, Filter{}, func(*schema.CanonicalEvent) { runtime.Goexit() })
	var later atomic.Int64
	inlineSub(t, d, Filter{}, func(*schema.CanonicalEvent) { later.Add(1) })
	queued := &recorder{}
	_, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: queued.handle})
	require.NoError(t, err)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		_ = d.Publish(context.Background(), take(t, p, bin, "BTC-USDT", schema.EventExecReport, 1))
	}()
	wait(t, ended, "the publisher's goroutine")
	require.Equal(t, int64(1), later.Load())
	waitDone(t, s)
	require.Equal(t, uint64(1), s.Stats().Delivered)
	require.ErrorIs(t, d.Unsubscribe(s), ErrUnknownSubscription, "ended already")
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 2)
	require.Equal(t, int64(2), later.Load())
	require.Zero(t, p.Stats().InUse)
	closeDispatcher(t, d)
	require.Len(t, queued.got(), 2)
}

// S43: routing as for a queued subscription: a gap marker about a symbol's
// book diffs reaches an inline subscriber of its book snapshots; one that
// names no type every market data subscriber of its venue; execution
// reports are delivered, and nothing of the dispatcher's own is added.
func TestS43dispInlineRoutesGapMarkersAndReports(t *testing.T) {
	p := newEventPool(8)
	d := New(p, nil)
	var snaps, trades []seen
	inlineSub(t, d, Filter{Types: []schema.EventType{schema.EventBookSnapshot}}, func(ev *schema.CanonicalEvent) {
		snaps = append(snaps, describe([]*schema.CanonicalEvent{ev})[0])
	})
	ts := inlineSub(t, d, Filter{Types: []schema.EventType{schema.EventTrade, schema.EventExecReport}}, func(ev *schema.CanonicalEvent) {
		trades = append(trades, describe([]*schema.CanonicalEvent{ev})[0])
	})
	gap := func(typ schema.EventType, seq uint64) {
		ev := take(t, p, bin, "BTC-USDT", schema.EventGap, seq)
		c := ev.UseControl()
		c.Kind, c.GapType, c.GapSource = schema.ControlGap, typ, schema.GapVenue
		require.NoError(t, d.Publish(context.Background(), ev))
	}
	gap(schema.EventBookUpdate, 1)
	gap(schema.EventUnknown, 2)
	for i := uint64(3); i < 3+3*DefaultOrderedBound; i++ { // more than a queued lane holds
		publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, i)
	}
	publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, 9999)
	require.Len(t, snaps, 2)
	require.Equal(t, schema.EventBookUpdate, snaps[0].Gap.GapType)
	require.Equal(t, schema.EventUnknown, snaps[1].Gap.GapType)
	require.Len(t, trades, 1+3*DefaultOrderedBound+1, "the no-type marker, every trade, the report")
	require.Equal(t, schema.EventGap, trades[0].Type)
	require.Equal(t, schema.EventExecReport, trades[len(trades)-1].Type)
	st := ts.Stats()
	require.Zero(t, st.Dropped+st.Coalesced+st.Gaps+st.Discarded+uint64(st.MaxDepth))
	require.Equal(t, uint64(len(trades)), st.Delivered)
	require.Zero(t, st.WorstLag, "no clock read for inline subscriptions")
	require.Zero(t, p.Stats().InUse)
	closeDispatcher(t, d)
}

// S43: a publish to 16 inline subscribers allocates one slab for all
// their clones, and nothing else: no queue, no goroutine, no wake-up. A
// quote too (there is no queued one to replace in place).
func TestS43dispInlineAllocsPerPublish(t *testing.T) {
	p := newEventPool(4)
	d := New(p, nil)
	var n atomic.Int64
	for range 16 {
		inlineSub(t, d, Filter{}, func(*schema.CanonicalEvent) { n.Add(1) })
	}
	for _, typ := range []schema.EventType{schema.EventTrade, schema.EventBBO, schema.EventExecReport} {
		seq := uint64(0)
		pub := func() {
			seq++
			ev := take(t, p, bin, "BTC-USDT", typ, seq)
			if typ == schema.EventExecReport {
				ev.UseExec().Side = schema.SideBuy
			}
			if err := d.Publish(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
		}
		pub() // the stream's route learned
		require.Equal(t, 1.0, testing.AllocsPerRun(100, pub), typ.String())
	}
	closeDispatcher(t, d)
}

// S43: Stats' identity holds in every snapshot taken while two
// publishers call an inline handler: what the host saw accepted (counted
// before Publish, so at least Delivered + InHand) is never less, and
// once quiet the two are equal.
func TestS43dispInlineStatsIdentityUnderConcurrency(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	var accepted atomic.Uint64
	s := inlineSub(t, d, Filter{}, func(*schema.CanonicalEvent) {})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, sym := range []string{"A", "B"} {
		wg.Go(func() {
			for i := uint64(1); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ev, err := p.TryGet()
				if err != nil {
					t.Error(err)
					return
				}
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, sym, schema.EventTrade, i
				accepted.Add(1)
				if err := d.Publish(context.Background(), ev); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 2000 {
		before := s.Stats()
		st := s.Stats()
		require.LessOrEqual(t, st.Delivered+uint64(st.InHand), accepted.Load())
		require.LessOrEqual(t, before.Delivered, st.Delivered)
		require.LessOrEqual(t, st.InHand, 2)
	}
	close(stop)
	wg.Wait()
	st := s.Stats()
	require.Equal(t, accepted.Load(), st.Delivered)
	require.Zero(t, st.InHand)
	require.True(t, s.Idle())
	closeDispatcher(t, d)
}

// BenchmarkInlineFanout publishes one trade to n inline subscribers, each
// handler a counter: the inline counterpart of BenchmarkPaced (queued
// subscribers parked between publishes, woken by each). cpu-ns/op is CPU
// time per publish over all threads, the garbage collector included.
func BenchmarkInlineFanout(b *testing.B) {
	for _, n := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			p := newEventPool(64)
			d := New(p, nil)
			var calls atomic.Int64
			for range n {
				inlineSub(b, d, Filter{}, func(*schema.CanonicalEvent) { calls.Add(1) })
			}
			ctx := context.Background()
			b.ReportAllocs()
			cpu0 := cpuTime()
			for i := 0; b.Loop(); i++ {
				ev, err := p.TryGet()
				if err != nil {
					b.Fatal(err)
				}
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventTrade, uint64(i)
				if err := d.Publish(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu0)
			b.StopTimer()
			if calls.Load() != int64(b.N*n) {
				b.Fatalf("%d calls, want %d", calls.Load(), b.N*n)
			}
			closeDispatcher(b, d)
		})
	}
}

// S43: a Publish already under way when Unsubscribe is called — held in
// an earlier subscriber's handler, its route read before — does not call
// the unsubscribed handler when it gets to it: from Unsubscribe's return,
// no call starts.
func TestS43dispInlineUnsubscribeDuringAPublish(t *testing.T) {
	p := newEventPool(8)
	d := New(p, nil)
	in, release := make(chan struct{}, 1), make(chan struct{})
	inlineSub(t, d, Filter{}, func(*schema.CanonicalEvent) {
		in <- struct{}{}
		<-release
	})
	var calls atomic.Int64
	late := inlineSub(t, d, Filter{}, func(*schema.CanonicalEvent) { calls.Add(1) })
	published := make(chan error, 1)
	go func() {
		published <- d.Publish(context.Background(), take(t, p, bin, "BTC-USDT", schema.EventTrade, 1))
	}()
	wait(t, in, "the first subscriber's call")
	require.NoError(t, d.Unsubscribe(late))
	waitDone(t, late)
	close(release)
	require.NoError(t, wait(t, published, "the Publish"))
	require.Zero(t, calls.Load(), "called after Unsubscribe returned")
	require.Zero(t, late.Stats().Delivered)
	require.Zero(t, p.Stats().InUse)
	closeDispatcher(t, d)
}
