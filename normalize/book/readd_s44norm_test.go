package book

import (
	"context"
	"testing"

	"github.com/meltica/meltica/schema"
	"github.com/stretchr/testify/require"
)

// A message the Books routed to a book (read from their map) before Add
// replaced it, applied only after Add put that book back in its place: it
// is of the book's earlier epoch, older than what its replacement got
// meanwhile (here the snapshot of bid 99). The re-added book, invalidated
// by the Add (its replacement's messages missed it), was made live again
// by it on bid 100 — a state the stream had left — because the check
// "replaced since it was routed" read only retired, which the second Add
// clears. Now the book's epoch (Books.swap) is read with its map entry
// and a routed message of an older epoch is not applied. Failed before:
// a.Live() true, best bid 100.
func TestS44normRoutedBeforeReplaceNotAppliedAfterReAdd(t *testing.T) {
	ctx := context.Background()
	r := routedThenReplaced(t) // Books read a from its map for a message, then a was replaced,
	events, books, a, stale, epoch := r.events, r.books, r.a, r.stale, r.epoch
	books.Add(a) // … and added again before the message reached it.
	requireNotServed(t, a)

	require.NoError(t, a.applyFrom(ctx, stale, epoch))
	requireNotServed(t, a)

	// A message routed in its present epoch is applied.
	fresh := s41cbEvent(t, events, schema.EventBookSnapshot, 98, 1)
	require.NoError(t, books.Publish(ctx, fresh))
	require.True(t, a.Live())
	bbo, ok := a.BBO()
	require.True(t, ok)
	require.Equal(t, "98", bbo.BidPrice.String())
}

// Add of the book already in place starts no new epoch: a message routed
// to it meanwhile is applied.
func TestS44normAddOfBookInPlaceKeepsRoutedMessage(t *testing.T) {
	ctx := context.Background()
	events, _, books := s39books(t)
	sinkA := &recSink{events: events}
	a, err := NewBook(Coinbase, "BTC-USD", &Options{Sink: sinkA, Events: events})
	require.NoError(t, err)
	books.Add(a)
	snap := s41cbEvent(t, events, schema.EventBookSnapshot, 100, 1)
	defer events.Put(snap)
	routed, epoch := books.route(snap)
	require.Same(t, a, routed)
	books.Add(a)
	require.NoError(t, a.applyFrom(ctx, snap, epoch))
	require.True(t, a.Live())
}
