package dispatch_test

// Adversarial tests, third round: clones seen from the subscribers' side —
// what one subscriber does to its clone, what the publisher does to the
// pooled original it gets back, and what the dispatcher does to a queued
// clone it coalesces, never shows in another subscriber's clone; and a
// subscriber that never reads holds a bounded queue.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

func TestAdversarial3ClonesStayApart(t *testing.T) {
	t.Parallel()
	p := adv3Pool(1) // one pooled event: every publish reuses the same memory
	d := dispatch.New(p, nil)

	// keeper keeps every clone as it is and never touches it.
	kept := make(chan *schema.CanonicalEvent, 16)
	_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { kept <- ev }})
	require.NoError(t, err)
	// scribbler writes over every clone it gets, and appends to it.
	scribbled := make(chan struct{}, 16)
	_, err = d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		for i := range ev.Raw {
			ev.Raw[i] = 'X'
		}
		ev.Raw = append(ev.Raw, "appended"...)
		for i := range ev.Book.Bids {
			ev.Book.Bids[i].Price = schema.NewDecimal(-1, 0)
		}
		for i := range ev.Book.Asks {
			ev.Book.Asks[i].Qty = schema.NewDecimal(-1, 0)
		}
		ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.NewDecimal(-2, 0)}, schema.Level{Price: schema.NewDecimal(-3, 0)})
		ev.Book.Asks = append(ev.Book.Asks, schema.Level{Price: schema.NewDecimal(-4, 0)})
		ev.BBO.BidPrice = schema.NewDecimal(-5, 0)
		scribbled <- struct{}{}
	}})
	require.NoError(t, err)
	// A slow subscriber: its clone of the first BBO waits in its slot and
	// is replaced in place by the second, while the keeper holds its own
	// clone of the first — both clones of one publish.
	g, _ := adv3Stalled(t, d, p, dispatch.SubscribeOptions{})
	wait := func() *schema.CanonicalEvent {
		t.Helper()
		select {
		case <-scribbled:
		case <-time.After(20 * time.Second):
			t.Fatal("scribbler got nothing")
		}
		select {
		case c := <-kept:
			return c
		case <-time.After(20 * time.Second):
			t.Fatal("keeper got nothing")
		}
		return nil
	}
	wait() // the control event that stalled the slow one

	type want struct {
		raw        string
		bids, asks []int64
		bid        int64
	}
	var wants []want
	var keptClones []*schema.CanonicalEvent
	publish := func(typ schema.EventType, w want) {
		adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type = adv3Venue, "BTC-USDT", typ
			ev.Raw = append(ev.Raw, w.raw...)
			for _, b := range w.bids {
				ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.NewDecimal(b, 0), Qty: schema.NewDecimal(1, 0)})
			}
			for _, a := range w.asks {
				ev.Book.Asks = append(ev.Book.Asks, schema.Level{Price: schema.NewDecimal(a, 0), Qty: schema.NewDecimal(1, 0)})
			}
			ev.BBO.BidPrice = schema.NewDecimal(w.bid, 0)
		})
		wants = append(wants, w)
		keptClones = append(keptClones, wait())
	}
	publish(schema.EventBBO, want{raw: `{"first":1}`, bids: []int64{100, 99}, asks: []int64{101}, bid: 100})
	publish(schema.EventBBO, want{raw: `{"second":22}`, bids: []int64{200}, asks: []int64{201, 202}, bid: 200})
	publish(schema.EventBookSnapshot, want{raw: `{"book":333}`, bids: []int64{300, 299, 298}, asks: []int64{301}, bid: 0})

	check := func(who string, ev *schema.CanonicalEvent, w want) {
		t.Helper()
		require.Equal(t, w.raw, string(ev.Raw), "%s: raw", who)
		var bids, asks []int64
		for _, l := range ev.Book.Bids {
			bids = append(bids, l.Price.Mantissa())
			require.Equal(t, int64(1), l.Qty.Mantissa(), "%s: bid qty", who)
		}
		for _, l := range ev.Book.Asks {
			asks = append(asks, l.Price.Mantissa())
			require.Equal(t, int64(1), l.Qty.Mantissa(), "%s: ask qty", who)
		}
		require.Equal(t, w.bids, bids, "%s: bids", who)
		require.Equal(t, w.asks, asks, "%s: asks", who)
		require.Equal(t, w.bid, ev.BBO.BidPrice.Mantissa(), "%s: bid", who)
		require.False(t, ev.Pooled(), "%s: a clone is not pooled", who)
	}
	close(g.gate)
	adv3Close(t, d)
	got := g.events()
	require.Len(t, got, 3, "the control event, the latest BBO, the book")
	check("slow subscriber's coalesced BBO", got[1], wants[1])
	check("slow subscriber's book", got[2], wants[2])
	for i, c := range keptClones {
		check(fmt.Sprint("keeper's clone ", i), c, wants[i])
	}
}

// A channel subscriber that never reads: whatever is published, its queue
// holds at most one slot per coalescable stream, OrderedBound ordered
// events and one marker per ordered stream (plus the event it is trying
// to send); Unsubscribe releases it all, counted.
func TestAdversarial3NeverReadingSubscriberIsBounded(t *testing.T) {
	t.Parallel()
	const bound, publishes = 32, 20000
	p := adv3Pool(4)
	d := dispatch.New(p, nil)
	s, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{OrderedBound: bound})
	require.NoError(t, err)
	types := []schema.EventType{schema.EventTrade, schema.EventBookUpdate, schema.EventBBO, schema.EventTicker, schema.EventLiquidation}
	const symbols = 8
	for i := range publishes {
		typ := types[i%len(types)]
		adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = adv3Venue, fmt.Sprint("S", i%symbols), typ, uint64(i+1)
			ev.Raw = append(ev.Raw, `{"payload":"some bytes to pin"}`...)
		})
		if i%997 == 0 {
			st := s.Stats()
			require.LessOrEqual(t, st.Ordered, bound+1)
			require.LessOrEqual(t, st.Coalescing, 2*symbols)
			require.LessOrEqual(t, st.Markers, 3*symbols)
		}
	}
	st := s.Stats()
	require.LessOrEqual(t, st.MaxDepth, bound+1+2*symbols+3*symbols, "%+v", st)
	require.Positive(t, st.Dropped)
	require.NoError(t, d.Unsubscribe(s))
	select {
	case <-s.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("goroutine did not exit")
	}
	after := s.Stats()
	require.Zero(t, after.Depth)
	// Every event it was given, and every marker made, is accounted for
	// once: delivered, replaced, dropped, or released (the queue, and the
	// one its goroutine was offering on C).
	require.Equal(t, uint64(publishes)+after.Gaps, after.Delivered+after.Coalesced+after.Dropped+after.Discarded, "%+v", after)
	require.GreaterOrEqual(t, after.Discarded, uint64(st.Depth))
	adv3Close(t, d)
	require.NoError(t, p.Shutdown(context.Background()))
}
