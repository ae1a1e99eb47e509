package meltica_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// s27ctWait is the failure guard of every wait on a condition: generous,
// never the thing a test waits for.
const s27ctWait = time.Minute

// s27ctEvent takes a pooled event of the given stream, as a parser would.
func s27ctEvent(t testing.TB, pools *schema.Pools, typ schema.EventType, venue schema.Venue, symbol string, seq uint64) *schema.CanonicalEvent {
	t.Helper()
	ev, err := pools.Events.Get(context.Background())
	require.NoError(t, err)
	ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = venue, symbol, typ, seq
	switch typ {
	case schema.EventGap:
		ev.UseControl().Kind = schema.ControlGap
	case schema.EventConnState:
		ev.UseControl().Kind = schema.ControlConnState
	}
	return ev
}

func s27ctClosed(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(s27ctWait):
		t.Fatalf("never happened: %s", what)
	}
}

// dispatch.Dispatcher.Close: "Calling it again waits again"; after it,
// "Publish and Subscribe return ErrClosed", Publish "returns the original
// to its pool ... after Close too", and SubscribeMerged "After Close ...
// returns ErrClosed". A host that closes twice (a defer and an explicit
// Close) gets no error the second time and no panic.
func TestS27ctDispatcherCloseTwiceAndUseAfterClose(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, &dispatch.Options{Merged: pools.Merged})
	var got atomic.Int64
	sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) { got.Add(1) }})
	require.NoError(t, err)
	require.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventTrade, schema.VenueBinance, "BTC-USDT", 1)))
	require.NoError(t, d.Close(ctx))
	assert.Equal(t, int64(1), got.Load(), "Close let the handler have what was queued")
	s27ctClosed(t, sub.Done(), "the subscription's goroutine exits with Close")
	require.NoError(t, d.Close(ctx), "a second Close")

	assert.ErrorIs(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventExecReport, schema.VenueBinance, "BTC-USDT", 2)), dispatch.ErrClosed)
	_, err = d.Subscribe(dispatch.Filter{}, nil)
	assert.ErrorIs(t, err, dispatch.ErrClosed)
	_, err = d.SubscribeMerged(dispatch.MergedFilter{}, nil)
	assert.ErrorIs(t, err, dispatch.ErrClosed)
	m, err := pools.Merged.Get(ctx)
	require.NoError(t, err)
	assert.ErrorIs(t, d.PublishMerged(ctx, m), dispatch.ErrClosed)
	assert.ErrorIs(t, d.Unsubscribe(sub), dispatch.ErrUnknownSubscription, "a subscription Close ended")
	assert.ErrorIs(t, d.Publish(ctx, nil), dispatch.ErrNilEvent, "nil is refused after Close too")
	require.NoError(t, pools.Shutdown(ctx), "every event published after Close went back")
}

// Close's context already cancelled, a handler stuck inside its call and
// events queued behind it: "When ctx ends first ... what is still queued is
// released and Close returns a *CloseError", which unwraps to the context's
// error and counts the discarded events and the running handler. Once the
// handler returns, its goroutine exits, and a second Close "waits again" and
// finds nothing to wait for.
func TestS27ctDispatcherCloseWithCancelledContext(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {
		once.Do(func() { close(entered) })
		<-release
	}})
	require.NoError(t, err)
	for i := uint64(1); i <= 4; i++ {
		require.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventExecReport, schema.VenueBinance, "BTC-USDT", i)))
	}
	s27ctClosed(t, entered, "the handler got the first report")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err = d.Close(cancelled)
	var ce *dispatch.CloseError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, uint64(3), ce.Discarded, "the three reports behind the stuck handler were released")
	assert.Equal(t, 1, ce.Running, "one handler still running")
	assert.Contains(t, err.Error(), "3", "the message says how many were released: %q", err.Error())
	close(release)
	s27ctClosed(t, sub.Done(), "the stuck handler's goroutine exits once the handler returns")
	assert.NoError(t, d.Close(ctx), "a second Close, with nothing left")
	assert.Equal(t, uint64(3), sub.Stats().Discarded)
	require.NoError(t, pools.Shutdown(ctx))
}

// SubscribeOptions.Handler: "It may call Unsubscribe (also for its own
// subscription)"; Dispatcher.Unsubscribe: "a handler may unsubscribe
// itself", "it receives nothing more, what it had queued is released
// (counted in Stats.Discarded)", and a second Unsubscribe returns
// ErrUnknownSubscription. A handler that unsubscribes another
// subscription is the other common pattern (a strategy retiring its
// helper).
func TestS27ctUnsubscribeFromInsideAHandler(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	var self *dispatch.Subscription
	ready := make(chan struct{})
	var calls atomic.Int64
	var unsubErr error
	self, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {
		<-ready
		if calls.Add(1) == 1 {
			unsubErr = d.Unsubscribe(self)
		}
	}})
	require.NoError(t, err)
	other, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBBO}}, nil) // a channel subscription nobody reads
	require.NoError(t, err)
	otherErr := make(chan error, 1)
	killer, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventControl}}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {
		otherErr <- d.Unsubscribe(other)
	}})
	require.NoError(t, err)

	for i := uint64(1); i <= 5; i++ {
		require.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventTrade, schema.VenueBinance, "BTC-USDT", i)))
		require.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventBBO, schema.VenueBinance, "BTC-USDT", i)))
	}
	close(ready)
	s27ctClosed(t, self.Done(), "a handler that unsubscribed itself ends its subscription")
	require.NoError(t, unsubErr)
	assert.Equal(t, int64(1), calls.Load(), "nothing delivered after the handler unsubscribed")
	st := self.Stats()
	assert.Equal(t, uint64(1), st.Delivered)
	assert.Equal(t, uint64(4), st.Discarded, "the four queued trades released and counted: %+v", st)
	assert.ErrorIs(t, d.Unsubscribe(self), dispatch.ErrUnknownSubscription)

	require.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventControl, schema.VenueBinance, "", 1)))
	s27ctClosed(t, other.Done(), "a subscription another handler unsubscribed")
	require.NoError(t, <-otherErr)
	for range other.C() {
		t.Fatal("the unsubscribed channel delivered an event after Unsubscribe")
	}
	require.NoError(t, d.Close(ctx))
	s27ctClosed(t, killer.Done(), "Close ends the last subscription")
	require.NoError(t, pools.Shutdown(ctx))
}

// Options.OnCriticalOverflow: "A host typically logs it and, if the
// subscriber is stuck, Unsubscribes it (which it may do from the
// callback)". The callback runs inside Publish; unsubscribing from it must
// neither deadlock Publish nor cost another subscriber its reports.
func TestS27ctUnsubscribeFromOnCriticalOverflow(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	var d *dispatch.Dispatcher
	var calls atomic.Int64
	var unsubErr error
	d = dispatch.New(pools.Events, &dispatch.Options{OnCriticalOverflow: func(s *dispatch.Subscription, st dispatch.Stats) {
		calls.Add(1)
		unsubErr = d.Unsubscribe(s)
	}})
	stuck, entered := make(chan struct{}), make(chan struct{}, 1)
	slow, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{CriticalBound: 2, Handler: func(*schema.CanonicalEvent) {
		entered <- struct{}{}
		<-stuck
	}})
	require.NoError(t, err)
	var mu sync.Mutex
	var seqs []uint64
	healthy, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		mu.Lock()
		seqs = append(seqs, ev.SeqProvider)
		mu.Unlock()
	}})
	require.NoError(t, err)
	require.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventExecReport, schema.VenueBinance, "BTC-USDT", 1)))
	<-entered
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := uint64(2); i <= 10; i++ {
			assert.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventExecReport, schema.VenueBinance, "BTC-USDT", i)))
		}
	}()
	s27ctClosed(t, published, "Publish returns although its overflow callback unsubscribed")
	close(stuck)
	s27ctClosed(t, slow.Done(), "the unsubscribed stuck subscriber's goroutine exits once its handler returns")
	assert.Equal(t, uint64(1), slow.Stats().Delivered, "nothing delivered after the callback unsubscribed it")
	require.NoError(t, unsubErr)
	assert.GreaterOrEqual(t, calls.Load(), int64(1))
	require.Eventually(t, healthy.Idle, s27ctWait, time.Millisecond)
	mu.Lock()
	assert.Equal(t, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, seqs, "the healthy subscriber got every report, in order")
	mu.Unlock()
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))
}

// Publish from inside a handler (a host re-publishing a derived event) and
// Subscribe from inside one: the dispatcher "is safe for concurrent use"
// and the docs forbid only Close from a handler.
func TestS27ctPublishAndSubscribeFromInsideAHandler(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	derived := make(chan *schema.CanonicalEvent, 4)
	subscribed := make(chan *dispatch.Subscription, 1)
	_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		s, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTicker}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { derived <- ev }})
		assert.NoError(t, err)
		subscribed <- s
		out, err := pools.Events.Get(ctx)
		assert.NoError(t, err)
		out.Venue, out.Symbol, out.Type, out.SeqProvider = ev.Venue, ev.Symbol, schema.EventTicker, ev.SeqProvider
		assert.NoError(t, d.Publish(ctx, out))
	}})
	require.NoError(t, err)
	require.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventTrade, schema.VenueOKX, "ETH-USDT", 7)))
	select {
	case ev := <-derived:
		assert.Equal(t, uint64(7), ev.SeqProvider)
		assert.Equal(t, schema.EventTicker, ev.Type)
	case <-time.After(s27ctWait):
		t.Fatal("the event published from a handler never arrived")
	}
	<-subscribed
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))
}

// Unsubscribe of nil, of another dispatcher's subscription, and of a
// subscription twice: "It returns ErrUnknownSubscription when s is not
// subscribed here, or was ended already." A host's cleanup path calls it
// on whatever it holds; none of these may panic.
func TestS27ctUnsubscribeOfWhatIsNotSubscribedHere(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	a := dispatch.New(pools.Events, nil)
	b := dispatch.New(pools.Events, nil)
	sb, err := b.Subscribe(dispatch.Filter{}, nil)
	require.NoError(t, err)
	assert.ErrorIs(t, a.Unsubscribe(sb), dispatch.ErrUnknownSubscription, "another dispatcher's subscription")
	var nilErr error
	assert.NotPanics(t, func() { nilErr = a.Unsubscribe(nil) }, "Unsubscribe(nil)")
	assert.ErrorIs(t, nilErr, dispatch.ErrUnknownSubscription, "Unsubscribe(nil)")
	var nilMerged error
	assert.NotPanics(t, func() { nilMerged = a.UnsubscribeMerged(nil) }, "UnsubscribeMerged(nil)")
	assert.ErrorIs(t, nilMerged, dispatch.ErrUnknownSubscription, "UnsubscribeMerged(nil)")
	require.NoError(t, b.Unsubscribe(sb))
	assert.ErrorIs(t, b.Unsubscribe(sb), dispatch.ErrUnknownSubscription, "twice")
	s27ctClosed(t, sb.Done(), "the unsubscribed goroutine")
	require.NoError(t, a.Close(ctx))
	require.NoError(t, b.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))
}

// The zero-value configuration a host writes first: Filter{} and nil
// options are "the defaults": a channel subscription (C non-nil) that gets
// everything; a handler subscription has no channel (C nil). Close does
// not wait for a channel nobody reads ("Close hands it off"), and
// Unsubscribe after Close ends it.
func TestS27ctZeroValueSubscriptionsAndAnUnreadChannel(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	ch, err := d.Subscribe(dispatch.Filter{}, nil)
	require.NoError(t, err)
	require.NotNil(t, ch.C(), "nil options: a channel subscription")
	h, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
	require.NoError(t, err)
	assert.Nil(t, h.C(), "a handler subscription has no channel")
	assert.NotEqual(t, ch.ID(), h.ID(), "IDs are unique within the dispatcher")
	for i := uint64(1); i <= 3; i++ {
		require.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventTrade, schema.VenueBybit, "SOL-USDT", i)))
	}
	ev := <-ch.C()
	assert.Equal(t, uint64(1), ev.SeqProvider)
	closed := make(chan error, 1)
	go func() { closed <- d.Close(ctx) }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(s27ctWait):
		t.Fatal("Close waited for a channel nobody reads")
	}
	select {
	case <-ch.Done():
		t.Fatal("the channel subscription ended before its queue was read or it was unsubscribed")
	default:
	}
	require.NoError(t, d.Unsubscribe(ch), "Unsubscribe after Close ends a channel not read to the end")
	s27ctClosed(t, ch.Done(), "the channel subscription's goroutine")
	require.NoError(t, pools.Shutdown(ctx))
}

// The docs: "A handler that ends its goroutine with runtime.Goexit
// (t.FailNow in a test's handler does) ends its subscription as
// Unsubscribe would: what is queued is released (counted in
// Stats.Discarded) ... and Done is closed".
func TestS27ctHandlerGoexitEndsItsSubscription(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	ready := make(chan struct{})
	sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {
		<-ready
		runtime.Goexit()
	}})
	require.NoError(t, err)
	for i := uint64(1); i <= 3; i++ {
		require.NoError(t, d.Publish(ctx, s27ctEvent(t, pools, schema.EventExecReport, schema.VenueKraken, "BTC-USD", i)))
	}
	close(ready)
	s27ctClosed(t, sub.Done(), "Goexit ends the subscription")
	assert.Equal(t, uint64(2), sub.Stats().Discarded, "the two reports queued behind it released and counted")
	assert.ErrorIs(t, d.Unsubscribe(sub), dispatch.ErrUnknownSubscription, "it was ended already")
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))
}

// "It is safe for concurrent use": Publish, Subscribe, Unsubscribe, Stats,
// Idle and Close from many goroutines at once (run it with -race). Every
// Publish returns nil or ErrClosed, every event goes back to its pool, and
// every critical event published before Close began reaches every handler
// subscription that existed from before it was published to Close.
func TestS27ctDispatcherConcurrentMisuse(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	var delivered atomic.Int64
	stable, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport}}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) { delivered.Add(1) }})
	require.NoError(t, err)
	var ok atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			for i := 0; i < 300; i++ {
				ev, err := pools.Events.Get(ctx)
				if err != nil {
					return
				}
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventExecReport, uint64(i)
				switch err := d.Publish(ctx, ev); {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, dispatch.ErrClosed):
				default:
					t.Errorf("Publish: %v", err)
				}
			}
		})
	}
	for g := 0; g < 2; g++ {
		wg.Go(func() {
			for i := 0; i < 100; i++ {
				s, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
				if errors.Is(err, dispatch.ErrClosed) {
					return
				}
				if !assert.NoError(t, err) {
					return
				}
				_ = s.Stats()
				_ = s.Idle()
				err = d.Unsubscribe(s)
				if err != nil && !errors.Is(err, dispatch.ErrUnknownSubscription) {
					t.Errorf("Unsubscribe: %v", err)
				}
			}
		})
	}
	wg.Go(func() {
		for i := 0; i < 200; i++ {
			_ = stable.Stats()
		}
	})
	wg.Wait()
	require.NoError(t, d.Close(ctx))
	assert.Equal(t, ok.Load(), delivered.Load(), "every report Publish accepted reached the subscription that was there throughout")
	require.NoError(t, pools.Shutdown(ctx))
}
