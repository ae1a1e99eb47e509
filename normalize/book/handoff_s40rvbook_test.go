package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Two books of two Sinks swapped back and forth in Books on an exhausted
// pool (each replaced book handing, handOff linking it to its
// replacement): the first swap back linked the two books both ways, and
// the next Add walked that ring for ever (handOff looked for the chain's
// end) — Books.Add hung. Now each replacement keeps a list of
// the books still handing (adopt): no ring, a book added again left out.
func TestS40rvbookHandingBooksSwappedBackAndForth(t *testing.T) {
	clk := newStepClock()
	events, _, books := s39books(t)
	ctx := context.Background()
	sinkA, sinkB := &recSink{events: events}, &recSink{events: events}
	o := &Options{Clock: clk, RetryInterval: time.Second}
	a := s40live(t, events, books, sinkA, o)
	b, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sinkB, Events: events, Clock: clk, RetryInterval: time.Second})
	require.NoError(t, err)
	add := func(x *Book) {
		t.Helper()
		held := takeAll(events)
		done := make(chan struct{})
		go func() {
			defer close(done)
			books.Add(x)
		}()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			t.Fatal("Books.Add hung")
		}
		putAll(events, held)
		require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 2_000)))
		require.True(t, x.Live())
	}
	add(b) // a handing
	add(a) // b handing
	add(b) // a handing again
	add(a)
	clk.step(time.Second)
	require.Equal(t, []string{ReasonReplaced, ReasonReplaced}, s40gaps(sinkA))
	require.Equal(t, []string{ReasonReplaced, ReasonReplaced}, s40gaps(sinkB))

	b.mu.Lock()
	n := len(b.handoffs)
	b.mu.Unlock()
	require.Zero(t, n, "the replaced book still to close the book in its place")
}

// A book handing (replaced by a book of another Sink on an exhausted
// pool), its replacement replaced in turn by a book of the same Sink:
// only a handing book passed its handed-off books on (handOff), so the
// first book was closed with none — Books.Close left its retry timer
// armed, its announcement untold. Now a replacement takes on the books
// its predecessor was to close, whether that one was handing or not.
func TestS40rvbookHandingBookOfAReplacedReplacementClosed(t *testing.T) {
	h := s40handing(t)
	books, a, sinkA := h.books, h.a, h.sinkA
	c, err := NewBook(OKX, "BTC-USDT", &Options{Sink: h.sinkB, Events: h.events, Clock: h.clk, RetryInterval: time.Second})
	require.NoError(t, err)
	books.Add(c)
	books.Close()
	require.Equal(t, []string{ReasonReplaced}, s40gaps(sinkA), "the replaced book's announcement untold at Close")
	a.mu.Lock()
	armed := a.retryArmed
	a.mu.Unlock()
	require.False(t, armed, "a timer of a closed host's book still armed")
}

// A handing book (replaced by a book of another Sink on an exhausted
// pool) closed every way: by Books.Close, by its replacement's Close, by
// its own, and by a Books.CloseContext whose ctx ended on the exhausted
// pool. Each leaves no timer armed, no pooled event out, and the
// announcement told once at most (never twice: a handing book's Sink
// goes once it is out).
func TestS40rvbookHandingBookClosedEveryWay(t *testing.T) {
	for _, tc := range []struct {
		name  string
		close func(books *Books, a, b *Book)
		told  int
	}{
		{"Books.Close", func(books *Books, _, _ *Book) { books.Close() }, 1},
		{"the replacement's Close", func(_ *Books, _, b *Book) { b.Close() }, 1},
		{"its own Close, then the replacement's", func(_ *Books, a, b *Book) { a.Close(); b.Close() }, 1},
		{"its own Close, then the Books'", func(books *Books, a, _ *Book) { a.Close(); books.Close() }, 1},
		{"Books.CloseContext ended", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, held := s40handingHeld(t)
			clk, events, books, a, b, sinkA := h.clk, h.events, h.books, h.a, h.b, h.sinkA
			if tc.close == nil {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				require.ErrorIs(t, books.CloseContext(ctx), context.Canceled)
				putAll(events, held)
			} else {
				putAll(events, held)
				tc.close(books, a, b)
			}
			clk.step(time.Minute)
			require.Len(t, s40gaps(sinkA), tc.told)
			for _, x := range []*Book{a, b} {
				x.mu.Lock()
				armed := x.retryArmed
				x.mu.Unlock()
				require.False(t, armed, "a timer of a closed book still armed")
			}
			require.Zero(t, events.Stats().InUse, "pooled events out")
		})
	}
}
