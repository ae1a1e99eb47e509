package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Books.Publish applies a book message, then hands it on. A break the
// message showed (a crossed book, a checksum mismatch: only the book can
// tell) whose marker the pool did not give with the host's ctx is owed;
// the message and the venue's next diffs still went on to the next sink,
// before the marker: a book kept downstream of the dispatcher applied
// them to a book it did not know was broken, and heard of the break only
// after. The book's messages are now withheld while its marker is owed,
// the message's pooled event handed back for the marker to take.
func TestS35rvbookDiffsNotHandedOnBeforeTheOwedMarker(t *testing.T) {
	books, b, sink, events, pooled := newHoldBooks(t, "s35rv-withheld")
	require.NoError(t, books.Publish(context.Background(), pooled(schema.EventBookSnapshot, "100", "101")))
	require.True(t, b.Live())
	sink.release()
	sink.mu.Lock()
	sink.got = nil
	sink.mu.Unlock()

	cross := pooled(schema.EventBookUpdate, "102", "101")
	next := pooled(schema.EventBookUpdate, "99", "2")
	held := takeAll(events)
	expired, cancel := context.WithCancel(context.Background())
	cancel()

	require.Error(t, books.Publish(expired, cross))
	require.False(t, b.Live())
	_ = books.Publish(expired, next)

	sink.release()
	putAll(events, held)
	require.NoError(t, books.Publish(context.Background(), pooled(schema.EventBookSnapshot, "98", "105")))
	var order []schema.EventType
	for _, ev := range sink.got {
		if ev.Type == schema.EventBookUpdate || (ev.Type == schema.EventGap && ev.Control.GapType == schema.EventBookUpdate) {
			order = append(order, ev.Type)
		}
	}
	require.NotEmpty(t, order)
	require.Equal(t, schema.EventGap, order[0], "a diff handed on before the break's marker: %v", order)
	require.Equal(t, uint64(1), b.Stats().Withheld)
}
