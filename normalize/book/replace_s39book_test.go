package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A book replaced (Books.Add) after its connection's loss: the dead
// connection's tail — its snapshot, received before the loss and handed
// on after it — was dropped by the replaced book (its lostAt), but the
// replacement knew no loss and loaded it: live on a connection that sends
// nothing more, served as live while stale; and the tail's quote went
// out after the withdrawal, the subscribers' latest for good. The
// replacement takes on the replaced book's losses (its tail rule) as
// well as its Feed.
func TestS39bookReplacementDropsTheLostConnectionsTail(t *testing.T) {
	for _, viaFeed := range []bool{false, true} {
		name := "Books.Publish"
		if viaFeed {
			name = "Feed"
		}
		t.Run(name, func(t *testing.T) {
			events, sink, books := s39books(t)
			ctx := context.Background()
			f := books.Feed(schema.VenueOKX, nil)
			publish, loss := books.Publish, books.OnEvent(schema.VenueOKX, nil)
			if viaFeed {
				publish, loss = f.Publish, f.OnEvent
			}
			old, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
			require.NoError(t, err)
			books.Add(old)
			require.NoError(t, publish(ctx, s38snap(t, events, "BTC-USDT", 100)))
			require.True(t, old.Live())
			loss(s38loss(1_000))
			require.False(t, old.Live())

			nb, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
			require.NoError(t, err)
			books.Add(nb)
			require.NoError(t, publish(ctx, s38quote(t, events, 900, "100.5"))) // the dead connection's tail
			require.Equal(t, []string{"100/101", "0/0"}, s31quoteBBOs(sink), "the lost connection's quote served after the withdrawal")
			require.NoError(t, publish(ctx, s38snap(t, events, "BTC-USDT", 900)))
			require.False(t, nb.Live(), "the replacement loaded the lost connection's tail: live on a dead connection")
			require.Equal(t, uint64(2), nb.Stats().AfterLoss)

			require.NoError(t, publish(ctx, s38snap(t, events, "BTC-USDT", 2_000))) // the new connection's
			require.True(t, nb.Live())
		})
	}
}

// A replacement book inherits the Feed binding of the book it replaces:
// before its first message it belonged to no client, and the loss of
// another client of the venue reached it — its lostAt taken for a tail
// rule of the wrong connection dropped the snapshot of its own, living
// connection (received before the other's loss, handed on after it), so
// the book waited not live for a snapshot the venue sends once. And the
// Feed a book's messages come through has its tail: a book that joins a
// client (its first message through it) drops that client's messages
// received before its loss.
func TestS39bookReplacementKeepsItsFeed(t *testing.T) {
	events, sink, books := s39books(t)
	ctx := context.Background()
	a, other := books.Feed(schema.VenueOKX, nil), books.Feed(schema.VenueOKX, nil)
	old, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(old)
	require.NoError(t, a.Publish(ctx, s38snap(t, events, "BTC-USDT", 100)))
	require.True(t, old.Live())

	nb, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(nb)
	other.OnEvent(s38loss(1_000)) // another client's connection
	require.NoError(t, a.Publish(ctx, s38snap(t, events, "BTC-USDT", 900)))
	require.True(t, nb.Live(), "the replacement dropped its own living connection's snapshot for another client's loss")
	require.Zero(t, nb.Stats().AfterLoss)

	// Moved to a client that lost its connection before: that
	// connection's tail is not loaded.
	nb2, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(nb2)
	require.NoError(t, other.Publish(ctx, s38snap(t, events, "BTC-USDT", 950)))
	require.False(t, nb2.Live(), "a client's tail loaded by a book that joined it after its loss")
	require.NoError(t, other.Publish(ctx, s38snap(t, events, "BTC-USDT", 2_000)))
	require.True(t, nb2.Live())
}

// A replacement already live when it is added — seeded by the host's own
// Apply, or loaded from a message the Books routed to it in the moment
// between Add's first look at the replaced book and the swap — on data
// received before the replaced book's loss stayed live: the dead
// connection's state served as live. Taking on that loss invalidates it,
// as the loss would have had it been in the Books then.
func TestS39bookReplacementLiveOnTheTailIsInvalidated(t *testing.T) {
	events, sink, books := s39books(t)
	ctx := context.Background()
	old, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(old)
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 100)))
	books.OnEvent(schema.VenueOKX, nil)(s38loss(1_000))
	require.False(t, old.Live())

	for _, at := range []int64{900, 2_000} {
		nb, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
		require.NoError(t, err)
		ev := s38snap(t, events, "BTC-USDT", at)
		require.NoError(t, nb.Apply(ctx, ev))
		events.Put(ev)
		require.True(t, nb.Live())
		books.Add(nb)
		require.Equal(t, at > 1_000, nb.Live(), "a replacement live on data received at %d, its connection lost at 1000", at)
	}
}

// A book moved to another client of the venue (its messages now through
// that client's Feed) was judged by the losses of the client it left: a
// loss of the old client, reported after the new client's snapshot was
// received and before it was handed on, dropped that snapshot as a tail
// — the new, living connection's — and the book stayed not live until a
// resync. A book that joins a Feed is judged by that Feed's losses.
func TestS39bookMovedBookIsJudgedByItsNewFeed(t *testing.T) {
	events, sink, books := s39books(t)
	ctx := context.Background()
	a, c := books.Feed(schema.VenueOKX, nil), books.Feed(schema.VenueOKX, nil)
	old, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(old)
	require.NoError(t, a.Publish(ctx, s38snap(t, events, "BTC-USDT", 100)))
	nb, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(nb) // bound to a, as the book it replaces; the host subscribed it on c
	a.OnEvent(s38loss(1_000))
	require.NoError(t, c.Publish(ctx, s38snap(t, events, "BTC-USDT", 900))) // c's, living
	require.True(t, nb.Live(), "a living client's snapshot dropped for the loss of the client the book left")
	require.Zero(t, nb.Stats().AfterLoss)
}

// blockSink holds the first Publish until release is closed.
type blockSink struct {
	events           poolOfEvents
	entered, release chan struct{}
	once             bool
}

func (s *blockSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	if !s.once {
		s.once = true
		close(s.entered)
		<-s.release
	}
	s.events.Put(ev)
	return nil
}

// A loss the Books were applying to the venue's books when Books.Add
// replaced one of them reached the replaced book only (the list read
// before the swap), after the replacement took on its losses: the
// replacement then loaded the dead connection's tail — live on a
// connection that sends nothing more. A loss that finds its book replaced
// goes to the replacement too.
func TestS39bookLossDuringAddReachesTheReplacement(t *testing.T) {
	events, sink, books := s39books(t)
	ctx := context.Background()
	slow := &blockSink{events: events, entered: make(chan struct{}), release: make(chan struct{})}
	eth, err := NewBook(OKX, "ETH-USDT", &Options{Sink: slow, Events: events})
	require.NoError(t, err)
	books.Add(eth) // first in the venue's list
	old, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(old)
	slow.once = true // nothing held yet
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "ETH-USDT", 100)))
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 100)))
	require.True(t, eth.Live() && old.Live())

	slow.once = false // eth's next Publish, its marker, is held
	lossDone := make(chan struct{})
	go func() {
		books.OnEvent(schema.VenueOKX, nil)(s38loss(1_000)) // eth's marker held in its sink
		close(lossDone)
	}()
	select {
	case <-slow.entered:
	case <-time.After(60 * time.Second):
		t.Fatal("the loss never reached eth")
	}
	nb, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(nb) // while the loss is on its way through the venue's list
	close(slow.release)
	select {
	case <-lossDone:
	case <-time.After(60 * time.Second):
		t.Fatal("the loss never returned")
	}
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 900))) // the dead connection's tail
	require.False(t, nb.Live(), "the replacement missed the loss applied during Add and loaded the tail")
}

// s39books is a Books on a recording sink, with the pool of events both
// use; the Books is closed when the test ends.
func s39books(t *testing.T) (poolOfEvents, *recSink, *Books) {
	t.Helper()
	events := newEventsPool()
	sink := &recSink{events: events}
	books := NewBooks(sink, events, nil)
	t.Cleanup(func() { books.Close() })
	return events, sink, books
}

// oweLoss breaks b on venue's loss received at ingest time at while the
// pool gives nothing: its announcement stays owed.
func oweLoss(t *testing.T, events poolOfEvents, b *Book, venue schema.Venue, at int64) {
	t.Helper()
	held := takeAll(events)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	require.Error(t, b.Apply(done, lostConn(venue, at)))
	putAll(events, held)
}
