package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s42bare is an event of venue Coinbase and type typ made by hand without
// its Control section (nil since issue #15's compact event), as a host's
// may be.
func s42bare(typ schema.EventType, symbol string, at int64) *schema.CanonicalEvent {
	return &schema.CanonicalEvent{Venue: schema.VenueCoinbase, Symbol: symbol, Type: typ, IngestTS: at}
}

// Since issue #15 Control is out of line, nil unless the event carries it,
// and the book read ev.Control.State / ev.Control.GapType of every
// connection state and gap marker given to it: Book.Apply of a host's
// EventConnState or EventGap without the section panicked (book.go, apply
// and breaksBook). A missing section reads as zero: a connection state of
// ConnUnknown, no loss, leaves the book live; a gap marker naming no
// stream (GapType EventUnknown: every stream of the symbol) breaks it, as
// one naming its diffs does.
func TestS42bookApplyWithoutControl(t *testing.T) {
	ctx := context.Background()
	t.Run("conn state", func(t *testing.T) {
		b, sink, _ := newRecBook(t, Coinbase, "BTC-USDT", nil)
		require.NoError(t, b.Apply(ctx, tenLevels()))
		require.True(t, b.Live())
		require.NoError(t, b.Apply(ctx, s42bare(schema.EventConnState, "", 2)))
		require.True(t, b.Live(), "ConnUnknown is no loss")
		require.Empty(t, sink.ofType(schema.EventGap))
	})
	t.Run("gap marker", func(t *testing.T) {
		b, sink, _ := newRecBook(t, Coinbase, "BTC-USDT", nil)
		require.NoError(t, b.Apply(ctx, tenLevels()))
		require.NoError(t, b.Apply(ctx, s42bare(schema.EventGap, "BTC-USDT", 2)))
		require.False(t, b.Live(), "a gap marker naming no stream breaks the book")
		gaps := sink.ofType(schema.EventGap)
		require.Len(t, gaps, 1)
		require.NotNil(t, gaps[0].Control, "the book's own marker carries its Control")
		require.Equal(t, schema.ControlGap, gaps[0].Control.Kind)
		require.Equal(t, schema.EventBookUpdate, gaps[0].Control.GapType)
		require.Equal(t, ReasonUpstream, gaps[0].Control.Reason)
	})
}

// The same events through Books: Books.Publish and Feed.Publish asked
// whether a connection state was a loss (books.go, publish and applyList)
// through ev.Control and panicked on one without it; a gap marker without
// it and without a Symbol breaks every book of the venue.
func TestS42bookBooksPublishWithoutControl(t *testing.T) {
	ctx := context.Background()
	for _, via := range []string{"Books.Publish", "Feed.Publish"} {
		t.Run(via, func(t *testing.T) {
			b, sink, events := newRecBook(t, Coinbase, "BTC-USDT", nil)
			books := NewBooks(sink, events, nil)
			books.Add(b)
			t.Cleanup(books.Close)
			publish := books.Publish
			if via == "Feed.Publish" {
				publish = books.Feed(schema.VenueCoinbase, nil).Publish
			}
			pooled := func(src *schema.CanonicalEvent) *schema.CanonicalEvent {
				ev, err := events.TryGet()
				require.NoError(t, err)
				src.CloneInto(ev)
				return ev
			}
			require.NoError(t, publish(ctx, pooled(tenLevels())))
			require.True(t, b.Live())
			require.NoError(t, publish(ctx, pooled(s42bare(schema.EventConnState, "", 2))))
			require.True(t, b.Live(), "ConnUnknown is no loss")
			require.NoError(t, publish(ctx, pooled(s42bare(schema.EventGap, "", 3))))
			require.False(t, b.Live(), "a connection-wide gap marker naming no stream breaks the venue's books")
			require.NotEmpty(t, sink.ofType(schema.EventGap))
		})
	}
}

// Books applies each connection state change to the venue's books as an
// event on its stack (connState); with Control out of line, the section
// it pointed to there (&schema.Control{...}) went to the heap: one more
// allocation per change, 5 where there were 4 (context.WithTimeout's
// for StateTimeout). The Feed keeps the section it applies.
func TestS42bookConnStateKeepsItsControl(t *testing.T) {
	_, _, events := newRecBook(t, Coinbase, "BTC-USDT", nil)
	books := NewBooks(nil, events, nil)
	t.Cleanup(books.Close)
	f := books.Feed(schema.VenueCoinbase, nil)
	at := time.Unix(1, 0)
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		i++
		st := schema.ConnConnected
		if i%2 == 0 {
			st = schema.ConnReconnecting
		}
		f.OnEvent(wsclient.Event{State: st, ConnID: 1, At: at})
	})
	require.LessOrEqual(t, allocs, 4.0, "a state change allocates what its StateTimeout context does, and no Control")
}
