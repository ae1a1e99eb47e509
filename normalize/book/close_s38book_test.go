package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Close publishes what the books owe (a break's announcement, the
// connection states the pool did not give), waiting for the pool up to
// StateTimeout; a host shutting down on a deadline of its own (the
// session's Close(ctx)) could not bound that wait. CloseContext ends the
// wait when ctx ends and returns ctx.Err(): what is owed stays owed (not
// published, not lost to a pooled event taken and kept), and every pooled
// event is back in the pool.
func TestS38bookBooksCloseContextEndsWithCtx(t *testing.T) {
	books, b, sink, events, held := booksOwingOnHeldPool(t) // the pool gives nothing more (until putAll)
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	n := len(sink.got)

	require.ErrorIs(t, books.CloseContext(expired), context.Canceled)
	require.ErrorIs(t, b.CloseContext(expired), context.Canceled)
	require.Len(t, sink.got, n, "nothing published on an exhausted pool")
	require.True(t, b.owing.Load(), "the announcement stays owed")
	require.EqualValues(t, len(held), events.Stats().InUse, "a pooled event taken and kept")
	putAll(events, held)
	require.Zero(t, events.Stats().InUse)

	// Given a ctx that lasts, it publishes what is owed, in order.
	require.NoError(t, books.CloseContext(context.Background()))
	var got []schema.EventType
	for _, ev := range sink.got[n:] {
		got = append(got, ev.Type)
	}
	require.Equal(t, []schema.EventType{schema.EventGap, schema.EventBBO, schema.EventConnState}, got)
	require.Zero(t, events.Stats().InUse)
}
