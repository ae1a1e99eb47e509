package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// routed is routedThenReplaced's result.
type routed struct {
	events poolOfEvents
	books  *Books
	sinkA  *recSink
	a, c   *Book
	stale  *schema.CanonicalEvent // routed to a in its epoch epoch, not applied
	epoch  uint64
}

// routedThenReplaced adds a Coinbase book a, live on bid 100, routes a
// snapshot of bid 100 to it (Books.route) without applying it, then adds
// c in a's place, live on bid 99; a and c publish through sinkA.
func routedThenReplaced(t *testing.T) routed {
	t.Helper()
	ctx := context.Background()
	events, _, books := s39books(t)
	r := routed{events: events, books: books, sinkA: &recSink{events: events}}
	var err error
	r.a, err = NewBook(Coinbase, "BTC-USD", &Options{Sink: r.sinkA, Events: events})
	require.NoError(t, err)
	books.Add(r.a)
	require.NoError(t, books.Publish(ctx, s41cbEvent(t, events, schema.EventBookSnapshot, 100, 1)))
	require.True(t, r.a.Live())

	r.stale = s41cbEvent(t, events, schema.EventBookSnapshot, 100, 1)
	t.Cleanup(func() { events.Put(r.stale) })
	var to *Book
	to, r.epoch = books.route(r.stale)
	require.Same(t, r.a, to)

	r.c, err = NewBook(Coinbase, "BTC-USD", &Options{Sink: r.sinkA, Events: events})
	require.NoError(t, err)
	books.Add(r.c)
	require.NoError(t, books.Publish(ctx, s41cbEvent(t, events, schema.EventBookSnapshot, 99, 1)))
	require.True(t, r.c.Live())
	return r
}

// addedAgainMarkers counts the ReasonAddedAgain gap markers sink got.
func addedAgainMarkers(sink *recSink) int {
	n := 0
	for _, ev := range sink.ofType(schema.EventGap) {
		if ev.ControlOrZero().Reason == ReasonAddedAgain {
			n++
		}
	}
	return n
}

// A message Books routed to book a before Add replaced it by c, applied
// while Add puts a back — after Add's first step (rearmLocked: a
// invalidated, retired cleared) and before its swap (the new epoch) —
// passed the check "replaced since routed": retired was clear already
// and the epoch not yet moved. It made a live again on bid 100, a state
// the stream had left (c went live on 99 meanwhile), and nothing
// invalidated it after: Add ended with a served live on it. The epoch now
// moves when a book is taken out of its place (swap, under the Books'
// lock): whatever was routed to it before is of an earlier epoch from
// then on, whenever Add puts it back. The test holds the Books' lock so
// that Add stops between its two steps (at Books.Book, after rearmLocked).
// Failed before: a.Live() true with bid 100 between the steps and after
// Add returned.
func TestS45rvcoreRoutedMessageBetweenAddStepsNotApplied(t *testing.T) {
	ctx := context.Background()
	r := routedThenReplaced(t)
	events, books, sinkA, a, stale, epoch := r.events, r.books, r.sinkA, r.a, r.stale, r.epoch

	books.mu.Lock() // Add(a) stops at Books.Book, after rearmLocked
	added := make(chan struct{})
	go func() {
		defer close(added)
		books.Add(a)
	}()
	require.Eventually(t, func() bool { return addedAgainMarkers(sinkA) == 1 }, 10*time.Second, time.Millisecond,
		"Add(a) did not reach its first step")
	require.NoError(t, a.applyFrom(ctx, stale, epoch)) // the routed message reaches a now
	stuck := a.Live()
	books.mu.Unlock()
	<-added
	require.False(t, stuck, "a message routed before a was replaced made it live between Add's steps")
	requireNotServed(t, a)
	require.Same(t, a, books.Book(schema.VenueCoinbase, "BTC-USD"))

	// What is routed to it now is applied.
	require.NoError(t, books.Publish(ctx, s41cbEvent(t, events, schema.EventBookSnapshot, 98, 1)))
	require.True(t, a.Live())
	bbo, ok := a.BBO()
	require.True(t, ok)
	require.Equal(t, "98", bbo.BidPrice.String())
}
