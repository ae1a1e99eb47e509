package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A book replaced in Books (its timers stopped: Book.stop set closed)
// and added again kept closed for good: its MaxSilence timer never
// armed again (heardLocked skips a closed book), so a quiet stream left
// its subscribers its last quote as live, no silence marker ever told.
// Only a book closed by the host (Book.Close) stays closed for good; a
// replaced one added again is re-armed at Add — by its next message:
// fed nothing since it was replaced, it is invalidated at Add (s41book).
func TestS40book2ReplacedBookAddedAgainKeepsItsTimers(t *testing.T) {
	for _, fed := range []bool{false, true} {
		name := "not fed after Add"
		if fed {
			name = "fed after Add"
		}
		t.Run(name, func(t *testing.T) {
			clk := newStepClock()
			events, _, books := s39books(t)
			sinkA := &recSink{events: events}
			o := &Options{Sink: sinkA, Events: events, Clock: clk, MaxSilence: 5 * time.Second, RetryInterval: time.Second}
			a, err := NewBook(OKX, "BTC-USDT", o)
			require.NoError(t, err)
			books.Add(a)
			require.NoError(t, books.Publish(context.Background(), s38snap(t, events, "BTC-USDT", 100)))
			require.True(t, a.Live())
			c, err := NewBook(OKX, "BTC-USDT", o)
			require.NoError(t, err)
			books.Add(c) // a replaced: its timers stopped
			books.Add(a) // a added again
			if !fed {
				// Fed nothing since it was replaced: invalidated at Add
				// (s41book: its levels missed c's messages), no timer
				// of a live book to arm.
				require.False(t, a.Live())
				require.Equal(t, []string{ReasonAddedAgain}, s40gaps(sinkA))
				a.mu.Lock()
				armed := a.silArmed
				a.mu.Unlock()
				require.False(t, armed, "a silence timer armed for a book not live")
				return
			}
			require.NoError(t, books.Publish(context.Background(), s38snap(t, events, "BTC-USDT", 200)))
			require.True(t, a.Live())
			clk.step(5 * time.Second)
			require.False(t, a.Live())
			require.Contains(t, s40gaps(sinkA), ReasonSilent, "a quiet book added again told its subscribers nothing")
			require.Equal(t, uint64(1), a.Stats().Silences)
		})
	}
}

// A book closed by the host (Book.Close: for good) and added to Books
// stays closed: no timer of it armed again.
func TestS40book2ClosedBookAddedStaysClosed(t *testing.T) {
	clk := newStepClock()
	events, _, books := s39books(t)
	sinkA := &recSink{events: events}
	a, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sinkA, Events: events, Clock: clk, MaxSilence: 5 * time.Second})
	require.NoError(t, err)
	books.Add(a)
	require.NoError(t, books.Publish(context.Background(), s38snap(t, events, "BTC-USDT", 100)))
	a.Close()
	books.Add(a)
	require.NoError(t, books.Publish(context.Background(), s38snap(t, events, "BTC-USDT", 200)))
	a.mu.Lock()
	armed := a.silArmed
	a.mu.Unlock()
	require.False(t, armed, "a timer of a book the host closed armed again")
}

// A book handing (replaced by a book of another Sink on an exhausted
// pool, its announcement owed to its own subscribers) added again: what
// it owed is its own again (Books.Add), but its retry timer found it
// closed and let it go — told never, on a quiet stream. Now the timer
// tries it again, the book no longer closed.
func TestS40book2HandingBookAddedAgainTellsWhatItOwed(t *testing.T) {
	h, held := s40handingHeld(t)
	require.Empty(t, s40gaps(h.sinkA), "the pool gave nothing: owed")
	h.books.Add(h.a) // added again, the pool still exhausted
	putAll(h.events, held)
	h.clk.step(time.Second)
	require.Equal(t, []string{ReasonReplaced}, s40gaps(h.sinkA), "what the book added again owed its subscribers never told")
}
