package dispatch_test

import (
	"context"
	"errors"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// The tests in this file hold the package documentation (go doc -all
// ./dispatch) to its concrete statements, through the public API, with
// real subscriber goroutines and no sleeps: a handler that blocks on a
// channel holds its subscription still while the test publishes.

// "the event is 376 bytes"; "the rare large sections, held out of line
// (Exec 384 bytes, Ticker 224, Kline 104)"; "up to 256 KiB (697 trades)".
// The numbers the Clones section reasons with must be the schema's.
func TestDocEventSizes(t *testing.T) {
	var ev schema.CanonicalEvent
	assert.Equal(t, uintptr(376), unsafe.Sizeof(ev), "dispatch/doc.go says 376 bytes")
	assert.Equal(t, uintptr(384), unsafe.Sizeof(*ev.Exec))
	assert.Equal(t, uintptr(224), unsafe.Sizeof(*ev.Ticker))
	assert.Equal(t, uintptr(104), unsafe.Sizeof(*ev.Kline))
	assert.Equal(t, uintptr(697), (256<<10)/unsafe.Sizeof(ev), "256 KiB holds 697 events")
}

type claimRig struct {
	pools *schema.Pools
	d     *dispatch.Dispatcher
}

func newClaimRig(t *testing.T) *claimRig {
	t.Helper()
	r := &claimRig{pools: schema.NewPools(nil)}
	r.d = dispatch.New(r.pools.Events, nil)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = r.d.Close(ctx)
		require.NoError(t, r.pools.Shutdown(ctx))
	})
	return r
}

func (r *claimRig) publish(t *testing.T, fill func(*schema.CanonicalEvent)) error {
	t.Helper()
	ev, err := r.pools.Events.Get(context.Background())
	require.NoError(t, err)
	ev.Venue, ev.Symbol = schema.VenueBinance, "BTC-USDT"
	fill(ev)
	return r.d.Publish(context.Background(), ev)
}

func trade(id uint64) func(*schema.CanonicalEvent) {
	return func(ev *schema.CanonicalEvent) { ev.Type, ev.SeqProvider = schema.EventTrade, id }
}

// blockedSub subscribes with a handler that reports each event on got and
// then waits for a release before returning: while it waits the
// subscription holds still and its queues fill.
func blockedSub(t *testing.T, r *claimRig, f dispatch.Filter, opts dispatch.SubscribeOptions) (sub *dispatch.Subscription, got chan *schema.CanonicalEvent, release chan struct{}) {
	t.Helper()
	got, release = make(chan *schema.CanonicalEvent, 64), make(chan struct{}, 64)
	opts.Handler = func(ev *schema.CanonicalEvent) { got <- ev; <-release }
	sub, err := r.d.Subscribe(f, &opts)
	require.NoError(t, err)
	return sub, got, release
}

func recv(t *testing.T, got chan *schema.CanonicalEvent) *schema.CanonicalEvent {
	t.Helper()
	select {
	case ev := <-got:
		return ev
	case <-time.After(time.Minute):
		t.Fatal("no delivery within a minute")
		return nil
	}
}

// Publish "returns the original to its pool before Publish returns — with
// no subscriber, on every error and after Close too"; a clone handed back
// is refused with a *NotPooledError; nil is ErrNilEvent.
func TestDocPublishReturnsTheOriginal(t *testing.T) {
	r := newClaimRig(t)
	require.NoError(t, r.publish(t, trade(1)))
	assert.Zero(t, r.pools.Events.Stats().InUse, "no subscriber: back in the pool")

	clone := (&schema.CanonicalEvent{Type: schema.EventTrade}).Clone()
	err := r.d.Publish(context.Background(), clone)
	var np *dispatch.NotPooledError
	assert.True(t, errors.As(err, &np), "%v", err)
	assert.ErrorIs(t, err, dispatch.ErrNotPooled)
	assert.ErrorIs(t, r.d.Publish(context.Background(), nil), dispatch.ErrNilEvent)

	require.NoError(t, r.d.Close(context.Background()))
	assert.ErrorIs(t, r.publish(t, trade(2)), dispatch.ErrClosed)
	assert.Zero(t, r.pools.Events.Stats().InUse, "after Close: back in the pool too")
	_, err = r.d.Subscribe(dispatch.Filter{}, nil)
	assert.ErrorIs(t, err, dispatch.ErrClosed)
}

// Coalescing: "At most one event per stream waits; a newer one replaces it
// [...] A slow subscriber sees fewer, fresher updates, and always the
// latest in the end."
func TestDocCoalescingLatestWins(t *testing.T) {
	r := newClaimRig(t)
	sub, got, release := blockedSub(t, r, dispatch.Filter{}, dispatch.SubscribeOptions{})
	bbo := func(n int64) func(*schema.CanonicalEvent) {
		return func(ev *schema.CanonicalEvent) {
			ev.Type = schema.EventBBO
			ev.BBO.BidPrice = schema.NewDecimal(n, 0)
		}
	}
	require.NoError(t, r.publish(t, bbo(1)))
	assert.Equal(t, "1", recv(t, got).BBO.BidPrice.String()) // the handler now holds still
	for n := int64(2); n <= 5; n++ {
		require.NoError(t, r.publish(t, bbo(n)))
	}
	release <- struct{}{}
	assert.Equal(t, "5", recv(t, got).BBO.BidPrice.String(), "the latest, and only it")
	release <- struct{}{}
	require.Eventually(t, sub.Idle, time.Minute, time.Millisecond)
	assert.Equal(t, uint64(3), sub.Stats().Coalesced)
	assert.Equal(t, uint64(2), sub.Stats().Delivered)
}

// Ordered: "When it is full the oldest event is dropped and counted, and
// recorded in its stream's gap marker [...] GapSource
// schema.GapSubscriberQueue, naming the venue, symbol, type, count and
// sequence range", and the marker "goes out immediately before the next
// event of that stream". Critical: "always delivered before any waiting
// market data [...] never dropped".
func TestDocOrderedDropOldestOneMarkerCriticalFirst(t *testing.T) {
	r := newClaimRig(t)
	sub, got, release := blockedSub(t, r, dispatch.Filter{}, dispatch.SubscribeOptions{OrderedBound: 2, CriticalBound: 1})
	require.NoError(t, r.publish(t, trade(1)))
	assert.Equal(t, uint64(1), recv(t, got).SeqProvider)
	for id := uint64(2); id <= 6; id++ {
		require.NoError(t, r.publish(t, trade(id)))
	}
	for i := 0; i < 3; i++ { // over CriticalBound: grows, never drops
		require.NoError(t, r.publish(t, func(ev *schema.CanonicalEvent) {
			ev.Type = schema.EventExecReport
			ev.UseExec().TradeID.SetUint(uint64(100 + i))
		}))
	}
	var seq []string
	for i := 0; i < 6; i++ {
		release <- struct{}{}
		ev := recv(t, got)
		switch ev.Type {
		case schema.EventExecReport:
			seq = append(seq, "exec "+ev.Exec.TradeID.String())
		case schema.EventGap:
			assert.Equal(t, schema.GapSubscriberQueue, ev.Control.GapSource)
			assert.Equal(t, schema.EventTrade, ev.Control.GapType)
			assert.Equal(t, "BTC-USDT", ev.Symbol)
			assert.Equal(t, schema.VenueBinance, ev.Venue)
			assert.Equal(t, uint64(3), ev.Control.GapCount)
			assert.Equal(t, [2]uint64{2, 4}, [2]uint64{ev.Control.GapFirstSeq, ev.Control.GapLastSeq})
			seq = append(seq, "gap")
		default:
			seq = append(seq, ev.Type.String()+" "+string(rune('0'+ev.SeqProvider)))
		}
	}
	release <- struct{}{}
	assert.Equal(t, []string{"exec 100", "exec 101", "exec 102", "gap", "trade 5", "trade 6"}, seq)
	require.Eventually(t, sub.Idle, time.Minute, time.Millisecond)
	st := sub.Stats()
	assert.Equal(t, uint64(3), st.Dropped)
	assert.Equal(t, uint64(1), st.Gaps)
	assert.Equal(t, uint64(2), st.Overflowed, "two critical events beyond the bound of 1, none lost")
}

// Filter: "Events with an empty Symbol (connection states, venue-wide
// control) match any symbol list"; "A gap marker about a stream [...]
// also reaches the subscribers of that stream, whether or not they name
// EventGap".
func TestDocFilterLetsStateAndStreamMarkersThrough(t *testing.T) {
	r := newClaimRig(t)
	sub, err := r.d.Subscribe(dispatch.Filter{Symbols: []string{"ETH-USDT"}, Types: []schema.EventType{schema.EventBookUpdate, schema.EventConnState}}, nil)
	require.NoError(t, err)
	require.NoError(t, r.publish(t, func(ev *schema.CanonicalEvent) {
		ev.Symbol, ev.Type = "", schema.EventConnState
		ev.UseControl().Kind, ev.UseControl().State = schema.ControlConnState, schema.ConnDisconnected
	}))
	require.NoError(t, r.publish(t, func(ev *schema.CanonicalEvent) {
		ev.Symbol, ev.Type = "ETH-USDT", schema.EventGap
		ev.UseControl().Kind, ev.UseControl().GapType = schema.ControlGap, schema.EventBookUpdate
	}))
	require.NoError(t, r.publish(t, trade(1))) // BTC-USDT: not wanted
	require.NoError(t, r.publish(t, func(ev *schema.CanonicalEvent) { ev.Symbol, ev.Type = "ETH-USDT", schema.EventBookUpdate }))
	var types []schema.EventType
	for len(types) < 3 {
		select {
		case ev := <-sub.C():
			types = append(types, ev.Type)
		case <-time.After(time.Minute):
			t.Fatalf("got only %v", types)
		}
	}
	assert.Equal(t, []schema.EventType{schema.EventConnState, schema.EventGap, schema.EventBookUpdate}, types)
	require.NoError(t, r.d.Unsubscribe(sub))
	assert.ErrorIs(t, r.d.Unsubscribe(sub), dispatch.ErrUnknownSubscription)
}

// "A panic in a subscriber's handler [...] is counted (Stats.Panics) [...]
// the event counts as delivered, and the subscription goes on with its
// next event."
func TestDocHandlerPanicRecovered(t *testing.T) {
	r := newClaimRig(t)
	got := make(chan uint64, 4)
	sub, err := r.d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		if ev.SeqProvider == 1 {
			panic("strategy bug")
		}
		got <- ev.SeqProvider
	}})
	require.NoError(t, err)
	require.NoError(t, r.publish(t, trade(1)))
	require.NoError(t, r.publish(t, trade(2)))
	select {
	case id := <-got:
		assert.Equal(t, uint64(2), id)
	case <-time.After(time.Minute):
		t.Fatal("the subscription did not go on")
	}
	require.Eventually(t, sub.Idle, time.Minute, time.Millisecond)
	assert.Equal(t, uint64(1), sub.Stats().Panics)
	assert.Equal(t, uint64(2), sub.Stats().Delivered)
}
