package contracttest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// panicOf runs f and returns what it panicked with, as text; "" when it
// did not panic.
func panicOf(f func()) (msg string) {
	defer func() {
		if v := recover(); v != nil {
			msg = fmt.Sprint(v)
		}
	}()
	f()
	return ""
}

// Contract 1 (DESIGN.md; pool doc "What each mode guarantees"): a second
// Put, a Put of a clone and a Put into another pool panic naming the type
// (and the pool); with stack capture, a stale owner's Put after the object
// was handed out again panics with the stack of the first Put; Shutdown
// reports how many objects of which pool never came back.
func TestS45ctOwnershipChecked(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	other := schema.NewPools(nil)
	name := pools.Events.Name()

	ev, err := pools.Events.Get(ctx)
	require.NoError(t, err)

	msg := panicOf(func() { pools.Events.Put(ev.Clone()) })
	require.NotEmpty(t, msg, "a clone was accepted")
	assert.Contains(t, msg, "CanonicalEvent")
	assert.Contains(t, msg, name)

	msg = panicOf(func() { other.Events.Put(ev) })
	require.NotEmpty(t, msg, "another pool's object was accepted")
	assert.Contains(t, msg, "CanonicalEvent")
	assert.True(t, pools.Events.Owns(ev), "a refused Put into the wrong pool cost the owner its object")

	pools.Events.Put(ev)
	msg = panicOf(func() { pools.Events.Put(ev) })
	require.NotEmpty(t, msg, "a second Put was accepted")
	assert.Contains(t, msg, "CanonicalEvent")
	assert.Contains(t, msg, name)

	kept, err := pools.Frames.Get(ctx)
	require.NoError(t, err)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err = pools.Shutdown(cancelled)
	require.ErrorIs(t, err, pool.ErrLeaked)
	leak, ok := errorsAs[*pool.LeakError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, pools.Frames.Name(), leak.Pool)
	assert.Contains(t, leak.Type, "WsFrame")
	assert.Equal(t, int64(1), leak.Outstanding)
	pools.Frames.Put(kept)
	require.NoError(t, pools.Shutdown(ctx))
	require.NoError(t, other.Shutdown(ctx))

	debug := schema.NewPools(&pool.Options{CaptureStacks: true})
	stale, err := debug.Events.Get(ctx)
	require.NoError(t, err)
	putFirst(debug, stale)
	fresh, err := debug.Events.Get(ctx)
	require.NoError(t, err)
	msg = panicOf(func() { debug.Events.Put(stale) })
	require.NotEmpty(t, msg, "a stale owner's Put was accepted with stacks on")
	assert.Contains(t, msg, "putFirst", "the panic shows where the object was first returned")
	debug.Events.Put(fresh)
	require.NoError(t, debug.Shutdown(ctx))
}

// putFirst is the first Put, named so that its stack can be found.
func putFirst(p *schema.Pools, ev *schema.CanonicalEvent) { p.Events.Put(ev) }

// Contract 1 through the pipeline (dispatch doc, module doc step 4): a
// subscriber's event is a heap clone; Publish refuses it with a typed error
// and a pool's Put panics on it, while the original went back to its pool
// (the pipeline's cleanup checks the leak report is empty).
func TestS45ctSubscriberClonesRefused(t *testing.T) {
	p, conn := startPipeline(t, nil)
	got := make(chan *schema.CanonicalEvent, 1)
	sub, err := p.disp.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	defer func() { assert.NoError(t, p.disp.Unsubscribe(sub)) }()

	send(t, conn, trade(t, 7, "0.001", "BNBBTC"))
	var clone *schema.CanonicalEvent
	select {
	case clone = <-got:
	case <-time.After(waitFor):
		t.Fatal("no trade delivered")
	}
	assert.False(t, clone.Pooled(), "a subscriber's event is not a pooled object")
	err = p.disp.Publish(context.Background(), clone)
	require.ErrorIs(t, err, dispatch.ErrNotPooled)
	var npe *dispatch.NotPooledError
	require.True(t, errors.As(err, &npe))
	assert.Equal(t, "BNB-BTC", npe.Symbol)
	assert.NotEmpty(t, panicOf(func() { p.pools.Events.Put(clone) }), "a pool accepted a subscriber's clone")
	require.Eventually(t, func() bool { return p.pools.Events.Stats().InUse == 0 }, waitFor, time.Millisecond,
		"the original never went back to its pool")
}

// Contract 1, Shutdown (pool doc "Shutdown"): Shutdown refuses new Gets
// and waits for every object checked out to come back, then reports no
// leak.
func TestS45ctShutdownWaitsForEveryObject(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	out, err := pools.Frames.Get(ctx)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- pools.Shutdown(ctx) }()
	require.Eventually(t, func() bool {
		f, err := pools.Frames.TryGet()
		if err == nil {
			pools.Frames.Put(f)
			return false
		}
		return errors.Is(err, pool.ErrClosed)
	}, waitFor, time.Millisecond, "Shutdown never refused a Get")
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) with a frame still out", err)
	default:
	}
	pools.Frames.Put(out)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(waitFor):
		t.Fatal("Shutdown did not return once the frame came back")
	}
}
