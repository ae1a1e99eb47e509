package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A live book replaced (Books.Add) by one of another view (Bybit
// orderbook.50 by orderbook.200), nothing owed: the subscribers of the
// replaced view's diffs got no marker — that stream ends there, the host
// subscribed the other depth — so a book downstream of orderbook.50 kept
// serving its last state as live, for good. The replacement tells them
// with a gap marker of the replaced view (ReasonReplaced), and that
// view's tops hear that one marker, not a second of their own.
func TestS39rvbookReplacedByAnotherViewTellsItsDiffSubscribers(t *testing.T) {
	events, sink, books := s39books(t)
	ctx := context.Background()
	r50, r200 := Bybit, Bybit
	r50.Depth, r200.Depth = 50, 200
	old, err := NewBook(r50, "BTCUSDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(old)
	require.NoError(t, books.Publish(ctx, s39bybit(t, events, 50, 100)))
	require.True(t, old.Live())
	require.NoError(t, old.PublishTop(ctx, 0)) // its own view, 50
	require.Empty(t, sink.ofType(schema.EventGap))

	nb, err := NewBook(r200, "BTCUSDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(nb)
	told := map[schema.EventType][]int{}
	for _, g := range sink.ofType(schema.EventGap) {
		told[g.Control.GapType] = append(told[g.Control.GapType], g.Book.Depth)
		require.Equal(t, ReasonReplaced, g.Control.Reason)
	}
	require.Equal(t, []int{50}, told[schema.EventBookUpdate], "the subscribers of orderbook.50's diffs told nothing: their book served as live")
	require.Empty(t, told[schema.EventBookSnapshot], "the tops of view 50 told twice")

	// The same view: the stream goes on into the replacement, whose
	// snapshot the subscribers get; no marker about the diffs.
	nb2, err := NewBook(r200, "BTCUSDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	require.NoError(t, books.Publish(ctx, s39bybit(t, events, 200, 200)))
	require.True(t, nb.Live())
	n := len(sink.ofType(schema.EventGap))
	books.Add(nb2)
	require.Len(t, sink.ofType(schema.EventGap), n)
}

// A book that owed its break's announcement (the pool gave none) when
// Books.Add replaced it by a book live on data received before that loss
// (the host's own Apply): the replacement, invalidated by the loss it
// took on (s39book), published its gap marker, then published the
// replaced book's owed one too — two markers of the same view for one
// loss, each a resynchronisation downstream. The subscribers' state is
// the replacement's (its snapshot went out after the replaced book's
// last message): its marker tells them, the replaced book's is spent.
func TestS39rvbookReplacementLiveOnTheTailTellsTheLossOnce(t *testing.T) {
	events, sink, books := s39books(t)
	ctx := context.Background()
	old, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(old)
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 100)))
	oweLoss(t, events, old, schema.VenueOKX, 1_000)
	require.Empty(t, sink.ofType(schema.EventGap))

	nb, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	ev := s38snap(t, events, "BTC-USDT", 900) // the dead connection's tail
	require.NoError(t, nb.Apply(ctx, ev))
	events.Put(ev)
	require.True(t, nb.Live())
	books.Add(nb)
	require.False(t, nb.Live())
	require.Len(t, sink.ofType(schema.EventGap), 1, "one loss, two markers")
}

// Of another view, the replacement's own marker does not tell the
// replaced view's subscribers: the replaced book's owed marker still goes
// out, one for each view.
func TestS39rvbookReplacementOfAnotherViewLiveOnTheTailTellsEachView(t *testing.T) {
	events, sink, books := s39books(t)
	ctx := context.Background()
	r50, r200 := Bybit, Bybit
	r50.Depth, r200.Depth = 50, 200
	old, err := NewBook(r50, "BTCUSDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(old)
	require.NoError(t, books.Publish(ctx, s39bybit(t, events, 50, 100)))
	oweLoss(t, events, old, schema.VenueBybit, 1_000)

	nb, err := NewBook(r200, "BTCUSDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	ev := s39bybit(t, events, 200, 900)
	require.NoError(t, nb.Apply(ctx, ev))
	events.Put(ev)
	books.Add(nb)
	require.False(t, nb.Live())
	var views []int
	for _, g := range sink.ofType(schema.EventGap) {
		views = append(views, g.Book.Depth)
	}
	require.ElementsMatch(t, []int{200, 50}, views)
}
