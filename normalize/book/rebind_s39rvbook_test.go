package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s39rvLoss is a pooled lost connection of OKX received at ingest, for
// Books.Publish (no Feed: a connection not known, every book's).
func s39rvLoss(t *testing.T, events poolOfEvents, ingest int64) *schema.CanonicalEvent {
	t.Helper()
	ev, err := events.TryGet()
	require.NoError(t, err)
	ev.Venue, ev.Type, ev.IngestTS = schema.VenueOKX, schema.EventConnState, ingest
	ev.Control = &schema.Control{Kind: schema.ControlConnState, State: schema.ConnDisconnected}
	return ev
}

// A loss published through Books.Publish (no Feed: a connection not
// known) concerns every book of the venue, the tail rule included: a
// book message received before it is a dead connection's tail. A book
// that then joined a Feed (its next message through it) was judged by
// that Feed's losses alone (s39book's judgedBy) and forgot it: the
// snapshot received before the loss was loaded, the book live on the
// dead connection's state. So too for a replacement that took the loss
// on (Books.Add) and then got its first message through a Feed. Either
// way the book drops that tail (Stats.AfterLoss) and goes live on a
// snapshot received after the loss.
func TestS39rvbookPublishedLossSurvivesJoiningAFeed(t *testing.T) {
	for _, replaced := range []bool{false, true} {
		name := "same book"
		if replaced {
			name = "replacement"
		}
		t.Run(name, func(t *testing.T) {
			events, sink, books := s39books(t)
			ctx := context.Background()
			f := books.Feed(schema.VenueOKX, nil)
			b, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
			require.NoError(t, err)
			books.Add(b)
			require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 100)))
			require.True(t, b.Live())
			require.NoError(t, books.Publish(ctx, s39rvLoss(t, events, 1_000)))
			require.False(t, b.Live())
			if replaced {
				b, err = NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
				require.NoError(t, err)
				books.Add(b)
			}
			require.NoError(t, f.Publish(ctx, s38snap(t, events, "BTC-USDT", 900))) // the dead connection's tail
			require.False(t, b.Live(), "live on a snapshot received before the venue's loss")
			require.Equal(t, uint64(1), b.Stats().AfterLoss)
			require.NoError(t, f.Publish(ctx, s38snap(t, events, "BTC-USDT", 2_000)))
			require.True(t, b.Live())
		})
	}
}
