package book

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A book Books.Add replaced is closed, and Close stopped its MaxSilence
// for good: the replaced book, which Books no longer feeds, went on
// reporting itself live with its last state for ever to a host still
// holding it — the stale book MaxSilence exists to catch. Reads judge the
// silence by the Clock, closed or not; Close only stops the timer (no
// marker).
func TestS30RVReplacedBookStillGoesSilent(t *testing.T) {
	clk := newStepClock()
	o := &Options{MaxSilence: 5 * time.Second, Clock: clk}
	b, sink, events := newRecBook(t, OKX, "BTC-USDT", o)
	books := NewBooks(nil, events, nil)
	books.Add(b)
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	o2 := *o
	o2.Sink, o2.Events = sink, events
	b2, err := NewBook(OKX, "BTC-USDT", &o2)
	require.NoError(t, err)
	books.Add(b2) // b is closed: no timer
	defer b2.Close()
	require.Zero(t, clk.pending())

	clk.step(time.Minute)
	require.False(t, b.Live(), "a replaced book no longer fed reported live a minute after its last message")
	q, ok := b.BBO()
	require.False(t, ok)
	require.Equal(t, "100", q.BidPrice.String(), "its last state stays readable")
	var top schema.CanonicalEvent
	require.False(t, b.Top(1, &top))
	require.Empty(t, sink.ofType(schema.EventGap), "a closed book publishes nothing")

	// Fed again (a host applying to it itself), it is live again.
	applyLive(t, b, okxRaw("books", "update", 10, 11, `["100","2","0","1"]`, ``, ""))
}

// The silence timer runs on a goroutine of its own, which a loaded
// machine may start late: until it ran, Live, BBO, Top and PublishTop
// served a book silent past MaxSilence as current. They judge by the
// Clock themselves; the timer publishes the marker.
func TestS30RVSilenceWithoutTheTimer(t *testing.T) {
	clk := newStepClock()
	b, sink, _ := newRecBook(t, OKX, "BTC-USDT", &Options{MaxSilence: 5 * time.Second, Clock: clk})
	defer b.Close()
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	clk.mu.Lock()
	clk.now = clk.now.Add(time.Hour) // the timer is due, and has not run
	clk.mu.Unlock()
	require.False(t, b.Live(), "a book silent for an hour reported live while its timer was late")
	_, ok := b.BBO()
	require.False(t, ok)
	var top schema.CanonicalEvent
	require.False(t, b.Top(1, &top))
	n := len(sink.got)
	require.NoError(t, b.PublishTop(t.Context(), 1))
	require.Len(t, sink.got, n, "PublishTop published a silent book")

	clk.step(0) // the timer runs: the marker, once
	require.Equal(t, uint64(1), b.Stats().Silences)
	require.Len(t, sink.ofType(schema.EventGap), 1)
}

// Books had no Close: a host that shut down with books of MaxSilence left
// their timers armed, each to fire once more and publish a silence marker
// into the host's closed sink. Books.Close closes every book.
func TestS30RVBooksCloseStopsEveryTimer(t *testing.T) {
	clk := newStepClock()
	o := &Options{MaxSilence: 5 * time.Second, Clock: clk}
	b, sink, events := newRecBook(t, OKX, "BTC-USDT", o)
	o2 := *o
	o2.Sink, o2.Events = sink, events
	e, err := NewBook(OKX, "ETH-USDT", &o2)
	require.NoError(t, err)
	books := NewBooks(nil, events, nil)
	books.Add(b)
	books.Add(e)
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	eth := okxEvent(t, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	eth.Symbol = "ETH-USDT"
	require.NoError(t, e.Apply(t.Context(), eth))
	require.True(t, e.Live())
	require.Equal(t, 2, clk.pending())

	books.Close()
	books.Close()
	require.Zero(t, clk.pending(), "a timer left armed after Books.Close")
	clk.step(time.Hour)
	require.Empty(t, sink.ofType(schema.EventGap), "a marker after Books.Close")
}
