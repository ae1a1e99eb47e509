package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// wsclient drops events when its queue is full. After a loss reported
// (the last state seen a loss), a whole connection may come and go
// unreported: its Connected and its loss both dropped. The books went
// live on its snapshot meanwhile, and the next event seen — the next
// connection's Connected — was taken for the end of the loss already
// applied: the book stayed live on the dead connection's state, served
// as current until the next connection's first message. wsclient numbers
// its connections from 1 as they are dialled, so an event naming a
// connection past the next one after the last named, after dropped
// events, says one between was lost unreported: a made-up loss, stamped
// with the event seen (a Connected is queued before its connection's
// reader starts: its frames are all later, the book live on them is left
// alone).
func TestS40bookConnectionComeAndGoneUnreported(t *testing.T) {
	for _, seen := range []struct {
		name string
		ev   wsclient.Event
	}{
		{"Connected", wsclient.Event{State: schema.ConnConnected, ConnID: 3, Dropped: 4, IngestTS: 600}},
		{"an error report", wsclient.Event{State: schema.ConnConnected, Reason: wsclient.ReasonInvalidFrame, ConnID: 3, Dropped: 5, IngestTS: 600}},
	} {
		t.Run(seen.name, func(t *testing.T) {
			b, sink, events, books := newOKXBooks(t)
			on := books.OnEvent(schema.VenueOKX, nil)
			ctx := context.Background()
			on(wsclient.Event{State: schema.ConnConnected, ConnID: 1, IngestTS: 100})
			require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 200)))
			on(wsclient.Event{State: schema.ConnDisconnected, Reason: wsclient.ReasonReadError, ConnID: 1, IngestTS: 300})
			require.False(t, b.Live())
			// Connection 2's Connected, its snapshot, its loss: the
			// events dropped, the snapshot applied.
			require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 400)))
			require.True(t, b.Live())
			on(seen.ev)
			require.False(t, b.Live(), "live on a connection lost unreported")
			var lost int
			for _, ev := range sink.ofType(schema.EventConnState) {
				if ev.Control.State.Lost() {
					lost++
				}
			}
			require.Equal(t, 2, lost, "the unreported loss published once")
			require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 700))) // connection 3's
			require.True(t, b.Live())
		})
	}
}

// The next connection after a reported loss, its Connected seen after
// dropped events (a report of its own dropped), is no loss: the book live
// on its snapshot stays live.
func TestS40bookNextConnectionAfterALossIsNoLoss(t *testing.T) {
	b, _, events, books := newOKXBooks(t)
	on := books.OnEvent(schema.VenueOKX, nil)
	ctx := context.Background()
	on(wsclient.Event{State: schema.ConnConnected, ConnID: 1, IngestTS: 100})
	on(wsclient.Event{State: schema.ConnDisconnected, Reason: wsclient.ReasonReadError, ConnID: 1, IngestTS: 300})
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 500))) // connection 2's, before its Connected is handled
	require.True(t, b.Live())
	on(wsclient.Event{State: schema.ConnConnected, ConnID: 2, Dropped: 1, IngestTS: 450})
	require.True(t, b.Live())
}
