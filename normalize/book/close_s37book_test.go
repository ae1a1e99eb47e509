package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A break's announcement still owed when the book is closed (the pool
// gave none in StateTimeout, the retry timer not yet fired) was never
// published: Close stopped the retry timer, and a closed book is given
// no more events. A host that closes its books after a lost connection
// kept the broken book's quote as its subscribers' latest, the break
// untold. Close now publishes what is owed, waiting for the pool at most
// StateTimeout.
func TestS37bookCloseAnnouncesAnOwedBreak(t *testing.T) {
	_, b, sink, events, held := liveOnHeldPool(t)
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	require.Error(t, b.Apply(expired, lostConn(schema.VenueOKX, 0)))
	require.False(t, b.Live())
	require.Empty(t, sink.ofType(schema.EventGap))
	putAll(events, held)

	b.Close()
	requireClosedAnnounced(t, sink, ReasonReconnect)
	require.False(t, b.owing.Load())
	b.Close() // twice: nothing more
	require.Len(t, sink.ofType(schema.EventGap), 1)
}

// Books.Close closes its books: a book's owed announcement goes out there
// too, before the venue's owed connection states (as Books.OnEvent
// applies a state to the books before it publishes it).
func TestS37bookBooksCloseAnnouncesOwedBreaksBeforeStates(t *testing.T) {
	books, _, sink, events, held := booksOwingOnHeldPool(t)
	putAll(events, held)

	books.Close()
	var got []schema.EventType
	sink.mu.Lock()
	for _, ev := range sink.got[1:] { // after the live book's quote
		got = append(got, ev.Type)
	}
	sink.mu.Unlock()
	require.Equal(t, []schema.EventType{schema.EventGap, schema.EventBBO, schema.EventConnState}, got)
	require.Zero(t, events.Stats().InUse)
}

// A book gone silent (MaxSilence) on an exhausted pool owes its silence
// announcement, tried again every RetryInterval by its timer — which
// Close stops. Closed before the pool freed, it never told its
// subscribers: they kept its quote as the latest of a book that reports
// itself not live. Close publishes what is left of it too.
func TestS37bookCloseAnnouncesAnOwedSilence(t *testing.T) {
	clk := newStepClock()
	b, sink, events := newRecBook(t, OKX, "BTC-USDT", &Options{Clock: clk, RetryInterval: time.Second, MaxSilence: 10 * time.Second})
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	held := takeAll(events)
	clk.step(10 * time.Second)
	require.False(t, b.Live())
	require.Equal(t, uint64(1), b.Stats().Silences)
	require.Empty(t, sink.ofType(schema.EventGap))
	putAll(events, held)

	b.Close()
	requireClosedAnnounced(t, sink, ReasonSilent)
	clk.step(time.Minute)
	require.Len(t, sink.ofType(schema.EventGap), 1)
}

// requireClosedAnnounced asserts that sink got, after the live book's
// quote, the book's one gap marker of reason and its quote's withdrawal:
// what the book owed at Close.
func requireClosedAnnounced(t *testing.T, sink *recSink, reason string) {
	t.Helper()
	gaps := sink.ofType(schema.EventGap)
	require.Len(t, gaps, 1, "what the book owed at Close is never told")
	require.Equal(t, reason, gaps[0].Control.Reason)
	quotes := sink.ofType(schema.EventBBO)
	require.Len(t, quotes, 2)
	require.True(t, quotes[1].BBO.BidPrice.IsZero() && quotes[1].BBO.AskPrice.IsZero(), "the closed book's quote is the subscribers' latest")
}

// A book Books.Add replaced is fed nothing more: its subscribers were
// told (its quote withdrawn, its tops' markers), but a host that kept
// the *Book — taken from Books.Book before the replacement — read it
// live, its best bid/offer and top served as current, for good (without
// MaxSilence nothing ever judged it). A replaced book now reports not
// live, its last state readable, until a message applied to it by the
// host keeps it live (TestS30RVReplacedBookStillGoesSilent: fed again,
// it is live again).
func TestS37bookReplacedBookIsNotServedAsLive(t *testing.T) {
	old, sink, events := newRecBook(t, OKX, "BTC-USDT", nil)
	books := NewBooks(sink, events, nil)
	books.Add(old)
	defer books.Close()
	applyLive(t, old, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	nb, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(nb)

	require.False(t, old.Live(), "a replaced book, fed nothing more, read as live")
	q, ok := old.BBO()
	require.False(t, ok)
	require.Equal(t, "100", q.BidPrice.String(), "its last state stays readable")
	var top schema.CanonicalEvent
	require.False(t, old.Top(1, &top))
	// Fed again, it is current again.
	applyLive(t, old, okxRaw("books", "update", 10, 11, `["100","2","0","1"]`, ``, ""))
}

// booksOwingOnHeldPool returns Books of one live OKX book, on a pool that
// gives nothing more (held, the events taken from it), that owe the
// book's break announcement (a lost connection applied with an ended
// ctx) and a venue's connection state.
func booksOwingOnHeldPool(t *testing.T) (*Books, *Book, *recSink, poolOfEvents, []*schema.CanonicalEvent) {
	t.Helper()
	events := newEventsPool()
	sink := &recSink{events: events}
	books := NewBooks(sink, events, nil)
	b, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(b)
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	held := takeAll(events)
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	require.Error(t, b.Apply(expired, lostConn(schema.VenueOKX, 0)))
	books.oweState(schema.VenueOKX, stateMark{state: schema.ConnClosed, at: 100})
	return books, b, sink, events, held
}
