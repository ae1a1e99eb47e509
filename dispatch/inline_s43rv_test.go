package dispatch

import (
	"context"
	"fmt"
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
