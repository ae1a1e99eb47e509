package dispatch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// midway checks a subscription that came while the feed was running: the
// first event of each stream (and of each venue's critical events) sets
// where it starts; after that a coalescable stream never goes back (no
// stale quote after a newer one), an ordered one goes on by one or after a
// gap marker that covers the jump, and a venue's critical events come
// without a hole or a swap.
type midway struct {
	name     string
	m        matcher
	slow     bool
	mu       sync.Mutex
	last     map[routeKey]uint64 // coalescable: the last seen; ordered: the next expected - 1
	crit     map[schema.Venue][]uint64
	failures int
	first    string
}

func (c *midway) fail(format string, args ...any) {
	if c.failures == 0 {
		c.first = fmt.Sprintf(format, args...)
	}
	c.failures++
}

func (c *midway) handle(ev *schema.CanonicalEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := keyOf(ev)
	switch t := ev.Type; {
	case t == schema.EventGap:
		g := ev.Control
		k.typ = g.GapType
		if last, ok := c.last[k]; ok && g.GapFirstSeq != last+1 {
			c.fail("%s: gap marker %+v for %v after seq %d", c.name, g, k, last)
		}
		c.last[k] = g.GapLastSeq
	case t.Critical():
		c.crit[ev.Venue] = append(c.crit[ev.Venue], ev.TraceID)
	case t.Coalescable():
		if last, ok := c.last[k]; ok && ev.SeqProvider <= last {
			c.fail("%s: stale %v: seq %d after %d", c.name, k, ev.SeqProvider, last)
		}
		c.last[k] = ev.SeqProvider
	default:
		if last, ok := c.last[k]; ok && ev.SeqProvider != last+1 {
			c.fail("%s: %v seq %d after %d with no gap marker", c.name, k, ev.SeqProvider, last)
		}
		c.last[k] = ev.SeqProvider
	}
	if c.slow {
		runtime.Gosched() // the slow ones fall behind by the scheduler alone
	}
}

// verifyCrit checks that c's critical events of each venue are the feed's
// of that venue its filter selects, from the first c saw on, none missing.
func (c *midway) verifyCrit(t *testing.T, feeds []*feed, whole bool) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	assert.Zero(t, c.failures, "%s: %d violations, first: %s", c.name, c.failures, c.first)
	for _, f := range feeds {
		for v, recs := range f.crit {
			var want []uint64
			for _, r := range recs {
				if c.m.match(r.key) {
					want = append(want, r.trace)
				}
			}
			got := c.crit[v]
			if len(got) == 0 {
				continue
			}
			i := slices.Index(want, got[0])
			if !assert.GreaterOrEqual(t, i, 0, "%s %s: a critical event never published", c.name, v) {
				continue
			}
			if whole {
				assert.Equal(t, want[i:], got, "%s %s: critical events lost or reordered", c.name, v)
			} else if assert.LessOrEqual(t, i+len(got), len(want), "%s %s", c.name, v) {
				assert.Equal(t, want[i:i+len(got)], got, "%s %s: critical events lost or reordered", c.name, v)
			}
		}
		if !whole {
			continue
		}
		// Kept to Close: every stream seen ends on its last event.
		for k, last := range f.last {
			if got, ok := c.last[k]; ok && !k.typ.Critical() && got != last {
				t.Errorf("%s: %v: last published %d, last seen %d", c.name, k, last, got)
			}
		}
	}
}

// TestS28PressureProperty: the feed of TestProperty (views included: book
// depths, kline intervals) from two publishers, while subscriptions come
// and go all the time (some slow, unsubscribed with events queued), one
// subscriber is held still for the whole feed, and Close begins while the
// held one and the slow ones still have events queued. The held one and
// the ones kept to the end must get every stream's latest coalescable
// event and every execution report, gap markers before the ordered events
// after a drop, none stale or out of order; every one that came midway
// sees the same rules from its first event on. (goleak checks after the
// package's tests that no goroutine is left.)
func TestS28PressureProperty(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	events := *propertyEvents / 5
	t.Logf("seed %d, %d events", seed, events)
	rng := rand.New(rand.NewPCG(seed, 1))
	p := newEventPool(schema.CapCanonicalEvent)
	d := New(p, nil)

	all := newChecker("all", Filter{}, nil)
	held := newChecker("held", Filter{Venues: propVenues[1:3]}, nil)
	release := make(chan struct{})
	var once sync.Once
	sAll, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: all.handle})
	require.NoError(t, err)
	sHeld, err := d.Subscribe(Filter{Venues: propVenues[1:3]}, &SubscribeOptions{OrderedBound: 32, Handler: func(ev *schema.CanonicalEvent) {
		once.Do(func() { <-release })
		held.handle(ev)
	}})
	require.NoError(t, err)

	feeds := make([]*feed, 2)
	errs := make([]error, 2)
	stop := make(chan struct{})
	var pubs, churn sync.WaitGroup
	for i := range feeds {
		pubs.Add(1)
		go func() {
			defer pubs.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i+2)))
			feeds[i], errs[i] = publishFeed(d, p, rng, propVenues[2*i:2*i+2], events/2, nil, nil)
		}()
	}
	// Subscriptions come and go while the feed runs; the last few stay to
	// Close.
	var kept, gone []*midway
	var keptSubs []*Subscription
	churn.Add(1)
	go func() {
		defer churn.Done()
		var live []*Subscription
		var liveC []*midway
		for n := 0; ; n++ {
			if n >= 300 { // enough: wait for the feed's end
				<-stop
			}
			select {
			case <-stop:
				kept, keptSubs = liveC, live
				return
			default:
			}
			f := randomFilter(rng)
			c := &midway{name: fmt.Sprintf("churn%d", n), m: compile(f), slow: n%3 == 0,
				last: map[routeKey]uint64{}, crit: map[schema.Venue][]uint64{}}
			opts := &SubscribeOptions{Handler: c.handle, OrderedBound: 8 + rng.IntN(64)}
			s, err := d.Subscribe(f, opts)
			if err != nil {
				return
			}
			live, liveC = append(live, s), append(liveC, c)
			if len(live) > 4 {
				i := rng.IntN(len(live))
				if d.Unsubscribe(live[i]) == nil {
					gone = append(gone, liveC[i])
				}
				live, liveC = slices.Delete(live, i, i+1), slices.Delete(liveC, i, i+1)
			}
			for range 2000 { // let some events through
				if len(stop) > 0 {
					break
				}
				runtime.Gosched()
			}
		}
	}()
	pubs.Wait()
	close(stop)
	churn.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Positive(t, sHeld.Stats().Depth, "the held subscriber had nothing queued: the test tests nothing")

	// Close while the held one is still held: it drains once released.
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		closed <- d.Close(ctx)
	}()
	eventually(t, func() bool { _, err := d.Subscribe(Filter{}, nil); return err == ErrClosed }, "Close began")
	close(release)
	require.NoError(t, <-closed)

	all.verify(t, feeds, sAll.Stats())
	held.verify(t, feeds, sHeld.Stats())
	assert.Positive(t, sHeld.Stats().Dropped, "the held subscriber dropped nothing: the test tests nothing")
	assert.Positive(t, sHeld.Stats().Coalesced)
	for _, c := range gone {
		c.verifyCrit(t, feeds, false)
	}
	for i, c := range kept {
		c.verifyCrit(t, feeds, true)
		assert.Zero(t, keptSubs[i].Stats().Discarded, c.name)
	}
	t.Logf("%d subscriptions came and went, %d kept to Close", len(gone), len(kept))
	assert.Zero(t, p.Stats().InUse)
}
