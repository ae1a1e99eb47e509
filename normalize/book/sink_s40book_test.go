package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s40gaps lists the reasons of the gap markers sink got.
func s40gaps(sink *recSink) []string {
	var out []string
	for _, ev := range sink.ofType(schema.EventGap) {
		out = append(out, ev.Control.Reason)
	}
	return out
}

// s40live adds to books an OKX book of BTC-USDT publishing to sink, live
// on a snapshot received at 100.
func s40live(t *testing.T, events poolOfEvents, books *Books, sink Sink, o *Options) *Book {
	t.Helper()
	opts := Options{Sink: sink, Events: events}
	if o != nil {
		opts.Clock, opts.RetryInterval = o.Clock, o.RetryInterval
	}
	b, err := NewBook(OKX, "BTC-USDT", &opts)
	require.NoError(t, err)
	books.Add(b)
	require.NoError(t, books.Publish(context.Background(), s38snap(t, events, "BTC-USDT", 100)))
	require.True(t, b.Live())
	return b
}

// s40handingBooks is a book a of sinkA, live, replaced in books by b of
// sinkB on a pool that gave nothing at Add (the pool refilled since): a
// still owes its own subscribers its announcement (handing), its retry
// timer armed on clk (RetryInterval 1 s).
type s40handingBooks struct {
	clk          *stepClock
	events       poolOfEvents
	books        *Books
	a, b         *Book
	sinkA, sinkB *recSink
}

func s40handing(t *testing.T) s40handingBooks {
	t.Helper()
	h, held := s40handingHeld(t)
	putAll(h.events, held)
	return h
}

// s40handingHeld is s40handing with the pool still exhausted: the events
// held are returned, for the caller to put back.
func s40handingHeld(t *testing.T) (s40handingBooks, []*schema.CanonicalEvent) {
	t.Helper()
	h := s40handingBooks{clk: newStepClock()}
	h.events, _, h.books = s39books(t)
	h.sinkA, h.sinkB = &recSink{events: h.events}, &recSink{events: h.events}
	o := Options{Clock: h.clk, RetryInterval: time.Second}
	h.a = s40live(t, h.events, h.books, h.sinkA, &o)
	o.Sink, o.Events = h.sinkB, h.events
	var err error
	h.b, err = NewBook(OKX, "BTC-USDT", &o)
	require.NoError(t, err)
	held := takeAll(h.events)
	h.books.Add(h.b)
	return h, held
}

// A book replaced (Books.Add) by one whose Sink is another dispatcher:
// takeOver assumed the replacement's Sink reached the replaced book's
// subscribers, and published the replaced book's withdrawal, the markers
// about its tops and the break's marker it owed to the NEW Sink — the
// old subscribers kept the replaced book's quote as their latest for good
// and never heard of the break (nor that the book's markers to them end
// there), while the new ones heard of a quote they never had. Now what
// the replaced book has out and owes goes to its own subscribers (its
// Sink), and a break it owed to the new ones too: the diffs of the
// stream (Books' next sink) reach both.
func TestS40bookReplacementWithAnotherSink(t *testing.T) {
	for _, owed := range []bool{false, true} {
		name := "live"
		if owed {
			name = "owing its loss marker"
		}
		t.Run(name, func(t *testing.T) {
			events, next, books := s39books(t)
			ctx := context.Background()
			sinkA, sinkB := &recSink{events: events}, &recSink{events: events}
			old := s40live(t, events, books, sinkA, nil)
			require.Equal(t, []string{"100/101"}, s31quoteBBOs(sinkA))
			if owed {
				oweLoss(t, events, old, schema.VenueOKX, 1_000)
				require.Empty(t, s40gaps(sinkA), "the pool gave nothing: owed")
			}

			nb, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sinkB, Events: events})
			require.NoError(t, err)
			books.Add(nb)
			require.Equal(t, []string{"100/101", "0/0"}, s31quoteBBOs(sinkA), "the replaced book's quote left its subscribers' latest")
			require.Empty(t, s31quoteBBOs(sinkB), "a withdrawal of a quote the new subscribers never had")
			if owed {
				require.Equal(t, []string{ReasonReconnect}, s40gaps(sinkA), "the old subscribers never heard of the loss")
				require.Equal(t, []string{ReasonReconnect}, s40gaps(sinkB), "the new subscribers never heard of the loss")
			} else {
				require.Equal(t, []string{ReasonReplaced}, s40gaps(sinkA), "the book's markers to the old subscribers end unannounced")
				require.Empty(t, s40gaps(sinkB))
			}
			require.Empty(t, s40gaps(next))

			// The new book publishes to its own Sink only.
			require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 2_000)))
			require.True(t, nb.Live())
			require.Equal(t, []string{"100/101"}, s31quoteBBOs(sinkB))
			require.Len(t, s31quoteBBOs(sinkA), 2)
		})
	}
}

// The replaced book's announcement to its own subscribers (another Sink
// than its replacement's) on a pool that gives nothing at Add: Add never
// waits, and it stays owed — tried again by the replaced book's retry
// timer (RetryInterval, by its Clock), not lost.
func TestS40bookReplacedBookOfAnotherSinkRetries(t *testing.T) {
	h := s40handing(t)
	clk, sinkA, sinkB := h.clk, h.sinkA, h.sinkB
	require.Equal(t, []string{"100/101"}, s31quoteBBOs(sinkA))
	clk.step(time.Second)
	require.Equal(t, []string{ReasonReplaced}, s40gaps(sinkA), "the replaced book's announcement lost on an exhausted pool")
	require.Equal(t, []string{"100/101", "0/0"}, s31quoteBBOs(sinkA))
	clk.step(time.Minute)
	require.Len(t, sinkA.got, 3, "a replaced book published again after its announcement")
	require.Empty(t, sinkB.got)
}

// A replacement of another Sink, live on the dead connection's tail when
// added (inherit breaks it on the replaced book's loss): its own marker
// tells its subscribers of the loss, not the replaced book's, whose
// marker, owed, takeOver dropped as told twice — so the old subscribers
// never heard of it.
func TestS40bookBrokenReplacementOfAnotherSink(t *testing.T) {
	events, _, books := s39books(t)
	ctx := context.Background()
	sinkA, sinkB := &recSink{events: events}, &recSink{events: events}
	old := s40live(t, events, books, sinkA, nil)
	oweLoss(t, events, old, schema.VenueOKX, 1_000)

	nb, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sinkB, Events: events})
	require.NoError(t, err)
	ev := s38snap(t, events, "BTC-USDT", 900) // the dead connection's tail
	require.NoError(t, nb.Apply(ctx, ev))
	events.Put(ev)
	require.True(t, nb.Live())
	books.Add(nb)
	require.False(t, nb.Live())
	require.Equal(t, []string{ReasonReconnect}, s40gaps(sinkA), "the old subscribers never heard of the loss")
	require.Equal(t, []string{"100/101", "0/0"}, s31quoteBBOs(sinkA))
	require.Len(t, s40gaps(sinkB), 1, "one marker of the loss to the new subscribers")
	require.Equal(t, []string{"100/101", "0/0"}, s31quoteBBOs(sinkB), "the replacement's own quote withdrawn")
}

// A replaced book still owing its own subscribers its announcement (its
// replacement of another Sink, the pool exhausted at Add), added again:
// publishing what it owed let its Sink go, as a replaced book's — added
// again, it published nothing more, its subscribers' latest the
// withdrawal for good.
func TestS40bookHandingBookAddedAgainKeepsItsSink(t *testing.T) {
	h := s40handing(t)
	events, books, old, sinkA := h.events, h.books, h.a, h.sinkA
	ctx := context.Background()
	books.Add(old)
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 2_000)))
	require.True(t, old.Live())
	require.Equal(t, []string{ReasonReplaced}, s40gaps(sinkA))
	require.Equal(t, []string{"100/101", "0/0", "100/101"}, s31quoteBBOs(sinkA), "the book added again publishes nothing")
}

// Books.Close closes its books, which publish what they owe and stop
// their timers — but not a replaced book still owing its own subscribers
// (a replacement of another Sink, the pool exhausted at Add): its retry
// timer outlived the host, its announcement untold at Close.
func TestS40bookBooksCloseClosesAHandingBook(t *testing.T) {
	h := s40handing(t)
	old, sinkA := h.a, h.sinkA
	h.books.Close()
	require.Equal(t, []string{ReasonReplaced}, s40gaps(sinkA), "the replaced book's announcement untold at Close")
	require.Equal(t, []string{"100/101", "0/0"}, s31quoteBBOs(sinkA))
	old.mu.Lock()
	armed := old.retryArmed
	old.mu.Unlock()
	require.False(t, armed, "a timer of a closed host's book still armed")
}
