package dispatch

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// TestS25SweepIsIncremental: forgetting the coalescing slots of streams
// gone quiet is spread over the publishes that bring new streams, a few
// slots each, rather than done all at once by one Publish under the
// subscription's lock (which the subscriber's goroutine and every other
// Publish to it wait on): a Publish's own cost must not grow with the
// streams the subscriber follows (at 100k streams, one sweep took ~30 ms).
// Slots still go: the table stays bounded by the streams that keep
// quoting.
func TestS25SweepIsIncremental(t *testing.T) {
	b := newBBOBench(t)
	pub, slots, slotOf := b.pub, b.slots, b.slotOf
	const live = minSlots
	rounds := 40
	if raceEnabled {
		// A table that kept every quiet stream's slot passes the bound
		// below (4 x live) after 7 rounds (live + 2,048 a round), and a
		// sweep done all at once passes sweepStep at its first, in round
		// 2 or 3: 12 rounds still catch both.
		rounds = 12
	}
	worst, most := 0, 0
	var kept *slot
	for round := range rounds {
		for i := range live { // the live streams quote ...
			pub("LIVE-" + strconv.Itoa(i))
		}
		for i := range live / 2 { // ... and half as many come and go
			before := slots()
			pub("GONE-" + strconv.Itoa(round) + "-" + strconv.Itoa(i))
			worst = max(worst, before+1-slots())
			most = max(most, slots())
		}
		b.caughtUp()
		if round == 1 {
			kept = slotOf("LIVE-0")
		}
	}
	t.Logf("most slots forgotten by one publish: %d; most slots held %d, now %d", worst, most, slots())
	require.Nil(t, slotOf("GONE-0-0"), "nothing was ever swept: the test tests nothing")
	require.LessOrEqual(t, worst, sweepStep, "one publish swept many slots at once")
	require.LessOrEqual(t, most, 4*live, "slots of quiet streams were kept: the table grows with the streams seen")
	require.NotNil(t, kept)
	require.Same(t, kept, slotOf("LIVE-0"), "a stream that keeps quoting lost its slot")
	closeDispatcher(t, b.d)
}

// TestS25ManyLiveStreamsKeepSlots: a subscriber to more coalescable
// streams than the sweep's floor, all quoting in turn and none new after
// the first round (a host following every option of a venue), keeps one
// slot per stream. The sweep done all at once when the slots doubled
// forgot all of them every 8,192 quotes, and made them again, one
// allocation and a sweep every 4,096 quotes, for as long as it ran.
func TestS25ManyLiveStreamsKeepSlots(t *testing.T) {
	b := newBBOBench(t)
	const live = 2*minSlots + 800
	var first *slot
	for round := range 4 {
		for i := range live {
			b.pub("OPT-" + strconv.Itoa(i))
			if i%1024 == 0 {
				b.caughtUp()
			}
		}
		b.caughtUp()
		if round == 1 {
			first = b.slotOf("OPT-0")
		}
	}
	require.NotNil(t, first)
	require.Same(t, first, b.slotOf("OPT-0"), "a stream that keeps quoting lost its slot")
	require.Equal(t, live, b.slots())
	closeDispatcher(t, b.d)
}

// bboBench is one subscription to everything with a counting handler, and
// a publisher of best bid/offers by symbol that counts what it published.
type bboBench struct {
	t         *testing.T
	p         *pool.Pool[*schema.CanonicalEvent]
	d         *Dispatcher
	s         *Subscription
	delivered atomic.Uint64
	published uint64
}

func newBBOBench(t *testing.T) *bboBench {
	b := &bboBench{t: t, p: newEventPool(64)}
	b.d = New(b.p, nil)
	var err error
	b.s, err = b.d.Subscribe(Filter{}, &SubscribeOptions{Handler: func(*schema.CanonicalEvent) { b.delivered.Add(1) }})
	require.NoError(t, err)
	return b
}

func (b *bboBench) pub(sym string) {
	ev, err := b.p.TryGet()
	require.NoError(b.t, err)
	ev.Venue, ev.Symbol, ev.Type = bin, sym, schema.EventBBO
	require.NoError(b.t, b.d.Publish(context.Background(), ev))
	b.published++
}

// caughtUp waits until the handler has had everything published.
func (b *bboBench) caughtUp() {
	eventually(b.t, func() bool { return b.delivered.Load() == b.published }, "delivery")
}

func (b *bboBench) slots() int {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	return len(b.s.slots)
}

func (b *bboBench) slotOf(sym string) *slot {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	return b.s.slotOf(routeKey{venue: bin, symbol: sym, typ: schema.EventBBO})
}
