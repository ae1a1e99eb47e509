package dispatch

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// wantRoute is the route of k matched the slow way: every subscription of
// d, in subscription order.
func wantRoute(d *Dispatcher, k routeKey) []*Subscription {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*Subscription
	for _, s := range d.subs {
		if s.m.match(k) {
			out = append(out, s)
		}
	}
	return out
}

// TestS28SubscribeKeepsLearnedRoutes: a Subscribe or Unsubscribe changes
// the route of a stream by one subscription at most, so the routes learned
// stay valid but for that one: a new subscription is matched against each
// stream once (not every subscription again), one that leaves is taken out
// without matching. (Each change started an empty index: every stream's
// next Publish matched every subscription again — S streams × N
// subscriptions of work after each change, on the publisher's goroutine.)
// The routes kept are the ones matching would give, also across several
// changes before a stream publishes again, also with gap markers naming
// no type (routed to the market data subscribers of a venue).
func TestS28SubscribeKeepsLearnedRoutes(t *testing.T) {
	p := newEventPool(64)
	d := New(p, nil)
	discard := &SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}}
	for i := range 8 {
		f := Filter{}
		switch i % 4 {
		case 1:
			f.Venues = []schema.Venue{bin}
		case 2:
			f.Types = []schema.EventType{schema.EventTrade}
		case 3:
			f.Types = []schema.EventType{schema.EventExecReport}
		}
		_, err := d.Subscribe(f, discard)
		require.NoError(t, err)
	}
	const streams = 1000
	keys := make([]routeKey, 0, 2*streams+8)
	for i := range streams {
		v := []schema.Venue{bin, okx}[i%2]
		typ := []schema.EventType{schema.EventTrade, schema.EventBBO}[i/2%2]
		keys = append(keys, routeKey{venue: v, symbol: "S-" + strconv.Itoa(i), typ: typ})
	}
	for i := range 4 {
		keys = append(keys, routeKey{venue: []schema.Venue{bin, okx}[i%2], symbol: "S-" + strconv.Itoa(i), anyType: true})
	}
	// check compares every route with matching, and returns the
	// subscriptions matched against a stream to learn them.
	check := func(what string) uint64 {
		t.Helper()
		ix := d.idx.Load()
		before := ix.matched
		for _, k := range keys {
			require.Equal(t, wantRoute(d, k), ix.route(k), "%s: route of %+v", what, k)
		}
		return ix.matched - before
	}
	check("learned")

	// One more subscription: each stream matched against it alone.
	extra, err := d.Subscribe(Filter{Venues: []schema.Venue{okx}}, discard)
	require.NoError(t, err)
	require.LessOrEqual(t, check("after Subscribe"), uint64(len(keys)), "a Subscribe had every stream matched against every subscription again")

	// One leaves: the routes start afresh (kept, they would keep the
	// subscription gone alive), and are right.
	require.NoError(t, d.Unsubscribe(extra))
	check("after Unsubscribe")

	// Several changes before the streams publish again.
	a, err := d.Subscribe(Filter{Symbols: []string{"S-1", "S-2"}}, discard)
	require.NoError(t, err)
	b, err := d.Subscribe(Filter{Types: []schema.EventType{schema.EventBBO}}, discard)
	require.NoError(t, err)
	require.LessOrEqual(t, check("after two Subscribes"), uint64(2*len(keys)), "Subscribes had every stream matched against every subscription again")
	c, err := d.Subscribe(Filter{}, discard)
	require.NoError(t, err)
	require.LessOrEqual(t, check("after one more"), uint64(len(keys)), "a Subscribe had every stream matched against every subscription again")
	require.NoError(t, d.Unsubscribe(a))
	check("after an Unsubscribe")
	require.NoError(t, d.Unsubscribe(b))
	require.NoError(t, d.Unsubscribe(c))
	check("after two more")

	// More Subscribes than the log keeps before the streams publish again:
	// learned by matching, and right.
	var many []*Subscription
	for i := range maxChanges + 6 {
		s, err := d.Subscribe(Filter{Symbols: []string{"S-" + strconv.Itoa(i)}}, discard)
		require.NoError(t, err)
		many = append(many, s)
	}
	check("after more Subscribes than the log keeps")
	// A Publish that loaded the index before a Subscribe gets its own
	// index's route, and leaves the later index's in place.
	k := keys[5]
	before := d.idx.Load()
	s, err := d.Subscribe(Filter{}, discard)
	require.NoError(t, err)
	after := d.idx.Load()
	require.Equal(t, wantRoute(d, k), after.route(k))
	require.NotContains(t, before.route(k), s)
	require.Equal(t, wantRoute(d, k), after.route(k))
	require.NoError(t, d.Unsubscribe(s))
	for _, s := range many {
		require.NoError(t, d.Unsubscribe(s))
	}

	// Events reach what the routes say: the new subscription hears a
	// stream learned before it came.
	r := newGatedRecorder()
	r.open()
	late, err := d.Subscribe(Filter{Symbols: []string{"S-3"}}, &SubscribeOptions{Handler: r.handle})
	require.NoError(t, err)
	publish(t, d, p, okx, "S-3", schema.EventBBO, 1)
	eventually(t, func() bool { return len(r.got()) == 1 }, "a subscription missed a stream learned before it came")
	require.NoError(t, d.Unsubscribe(late))
	closeDispatcher(t, d)
}
