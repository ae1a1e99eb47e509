package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// A loss wsclient dropped (its queue full) is made up from the first event
// of the next connection seen (Books.OnEvent), stamped with that event's
// time: the book cannot stamp it exactly — the events say nothing of when
// the new connection began, the frames nothing of their connection. When
// that event is not the new connection's Connected but a later report
// (an invalid frame), the book already live on the new connection's
// snapshot is invalidated once more (one extra resync) and the new
// connection's messages received before the report are dropped as a tail
// (Stats.AfterLoss). Pinned: the safe side — never live on the dead
// connection's tail. An exact stamp needs wsclient.Event to carry the
// connection's start on the frames' clock.
func TestS39bookMadeUpLossIsStampedWithTheEventSeen(t *testing.T) {
	b, sink, events, books := newOKXBooks(t)
	on := books.OnEvent(schema.VenueOKX, nil)
	ctx := context.Background()
	on(wsclient.Event{State: schema.ConnConnected, ConnID: 1, IngestTS: 100})
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 200)))
	require.True(t, b.Live())
	// Connection 1 died and connection 2 connected: both events dropped.
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 400))) // connection 2's
	require.True(t, b.Live())
	on(wsclient.Event{State: schema.ConnConnected, Reason: wsclient.ReasonInvalidFrame, ConnID: 2, Dropped: 2, IngestTS: 500})
	require.False(t, b.Live(), "the made-up loss, stamped after the new connection's snapshot, invalidates it: one extra resync")
	var lost int
	for _, ev := range sink.ofType(schema.EventConnState) {
		if ev.Control.State.Lost() {
			lost++
			require.Equal(t, int64(500), ev.IngestTS)
		}
	}
	require.Equal(t, 1, lost, "the dropped loss published once")
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 150))) // connection 1's tail
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 450))) // connection 2's, before the report
	require.False(t, b.Live(), "live on a message received before the loss stamped")
	require.Equal(t, uint64(2), b.Stats().AfterLoss)
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 600)))
	require.True(t, b.Live())
}
