package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A break's announcement the pool did not give with the applying ctx is
// owed, published at the book's next event. A book that gets none — a
// symbol delisted, a quiet market whose book the venue stopped sending —
// kept its quote as the subscribers' latest, its break untold, for good:
// the MaxSilence timer, already running, let go of a book not live. It
// now tries the owed announcement again, without waiting for the pool,
// every RetryInterval until it is out.
func TestS35rvbookOwedAnnouncementRetriedWithoutEvents(t *testing.T) {
	clk, events, sink, b := newQuietBook(t, "s35rv-quiet")

	held := takeAll(events)
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	require.Error(t, b.Apply(expired, lostConn(schema.VenueOKX, 0)))
	require.False(t, b.Live())
	require.Empty(t, sink.markers())
	putAll(events, held)

	clk.step(5 * time.Second) // MaxSilence's timer
	clk.step(time.Second)
	require.Len(t, sink.markers(), 1, "the break's marker, owed, never told")
	quotes := sink.ofType(schema.EventBBO)
	require.True(t, quotes[len(quotes)-1].BBO.BidPrice.IsZero(), "the broken book's quote is the subscribers' latest")
	clk.step(time.Minute)
	require.Len(t, sink.markers(), 1)
	require.Zero(t, clk.pending(), "a retry armed with nothing owed")
	require.Zero(t, events.Stats().InUse)
}

// newQuietBook returns a live OKX BTC-USDT book on a step clock, with
// MaxSilence 5 s and RetryInterval 1 s, its quote published to sink
// from a pool of 4 events; the book is closed at the test's end.
func newQuietBook(t *testing.T, name string) (*stepClock, *pool.Pool[*schema.CanonicalEvent], *recSink, *Book) {
	t.Helper()
	clk := newStepClock()
	events := pool.New(name, 4, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	sink := &recSink{events: events}
	b, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events, MaxSilence: 5 * time.Second, RetryInterval: time.Second, Clock: clk})
	require.NoError(t, err)
	t.Cleanup(b.Close)
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	require.Len(t, sink.ofType(schema.EventBBO), 1)
	return clk, events, sink, b
}
