package dispatch

import (
	"context"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS29UnsubscribeKeepsLearnedRoutes: an Unsubscribe takes one
// subscription out of the routes; the routes of the others are kept. It
// started an empty index: every stream's next Publish matched every
// subscription again (S streams × N subscriptions of matching on the
// publisher's goroutine, a burst of route misses after each Unsubscribe).
// Every subscription kept still gets every event it matches, the one gone
// none, and the routes equal matching.
func TestS29UnsubscribeKeepsLearnedRoutes(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	const subs, streams = 40, 500
	got := make([]atomic.Uint64, subs)
	var ss []*Subscription
	for i := range subs {
		f := Filter{}
		if i%2 == 1 {
			f.Types = []schema.EventType{schema.EventTrade}
		}
		s, err := d.Subscribe(f, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) { got[i].Add(1) }})
		require.NoError(t, err)
		ss = append(ss, s)
	}
	keys := make([]routeKey, streams)
	for i := range keys {
		keys[i] = routeKey{venue: bin, symbol: "S-" + strconv.Itoa(i), typ: []schema.EventType{schema.EventTrade, schema.EventBBO}[i%2]}
	}
	round := func() {
		for _, k := range keys {
			ev, err := p.TryGet()
			require.NoError(t, err)
			ev.Venue, ev.Symbol, ev.Type = k.venue, k.symbol, k.typ
			require.NoError(t, d.Publish(context.Background(), ev))
		}
	}
	round()
	gone := []int{3, 10, 11}
	for _, i := range gone {
		require.NoError(t, d.Unsubscribe(ss[i]))
	}
	ix := d.idx.Load()
	ix.mu.Lock()
	before := ix.matched
	ix.mu.Unlock()
	round()
	ix.mu.Lock()
	matched := ix.matched - before
	ix.mu.Unlock()
	t.Logf("subscriptions matched after %d Unsubscribes, for %d streams: %d", len(gone), streams, matched)
	require.Zero(t, matched, "routes learned again after an Unsubscribe")
	for _, k := range keys {
		require.Equal(t, wantRoute(d, k), d.idx.Load().route(k), "route of %+v", k)
	}
	closeDispatcher(t, d)
	for i := range subs {
		want := uint64(2 * streams)
		if i%2 == 1 {
			want = streams
		}
		if slices.Contains(gone, i) {
			// Gone after the first round: what it had queued was
			// discarded, and it got nothing of the second.
			require.LessOrEqual(t, got[i].Load(), want/2, "subscription %d, gone", i)
			continue
		}
		// Every event it matched was accepted: delivered, or (a subscriber
		// starved on a loaded machine) past its coalescing lane's bound and
		// announced by a gap marker, which its handler got too (Stats'
		// identity; requiring every event delivered failed 26 runs in 300
		// under load).
		st := ss[i].Stats()
		require.Equal(t, got[i].Load(), st.Delivered, "subscription %d", i)
		require.Equal(t, want, st.Delivered+st.Dropped+st.Coalesced-st.Gaps, "subscription %d: %+v", i, st)
	}
}

// TestS29GoneSubscriptionNotHeldByRoutes: a route kept across an
// Unsubscribe holds the subscription gone until its stream publishes again
// (or maxGone Unsubscribes sweep it out): what it holds is the shell, its
// queues released when it stopped. A subscriber held still with thousands
// of events queued frees them at Unsubscribe, and the routes no longer
// hold it once maxGone more Unsubscribes have passed though its streams
// never publish again.
func TestS29GoneSubscriptionNotHeldByRoutes(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	hold := make(chan struct{})
	s, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) { <-hold }})
	require.NoError(t, err)
	for i := range 3000 {
		ev, err := p.TryGet()
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type = bin, "S-"+strconv.Itoa(i), []schema.EventType{schema.EventBBO, schema.EventExecReport, schema.EventTrade}[i%3]
		require.NoError(t, d.Publish(context.Background(), ev))
	}
	require.NoError(t, d.Unsubscribe(s))
	close(hold)
	waitDone(t, s)
	s.mu.Lock()
	require.Zero(t, cap(s.crit.buf)+cap(s.ord.buf)+cap(s.coal.buf)+len(s.slots)+len(s.slotList), "a stopped subscription kept its queues")
	s.mu.Unlock()
	held := func() (n int) {
		ix := d.idx.Load()
		for _, g := range []*routes{ix.cur.Load(), ix.old} {
			if g == nil {
				continue
			}
			g.m.Range(func(_, v any) bool {
				for _, r := range v.(*route).subs {
					if r == s {
						n++
					}
				}
				return true
			})
		}
		return n
	}
	require.Positive(t, held(), "the routes were not kept: nothing to test")
	for range maxGone {
		o, err := d.Subscribe(Filter{}, nil)
		require.NoError(t, err)
		require.NoError(t, d.Unsubscribe(o))
	}
	<-d.sweeping() // the sweep runs on a goroutine of the dispatcher's
	require.Zero(t, held(), "routes of streams that never publish again still hold a subscription gone")
	closeDispatcher(t, d)
}
