package book

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// hookSink is a recSink that runs hook, when set, on each event before
// it records it and gives it back.
type hookSink struct {
	recSink
	hook func(ctx context.Context, ev *schema.CanonicalEvent)
}

func (s *hookSink) Publish(ctx context.Context, ev *schema.CanonicalEvent) error {
	if s.hook != nil {
		s.hook(ctx, ev)
	}
	return s.recSink.Publish(ctx, ev)
}

// pooledTrade is a trade of venue from events, for Books.Publish to take.
func pooledTrade(t *testing.T, events poolOfEvents, venue schema.Venue) *schema.CanonicalEvent {
	t.Helper()
	ev, err := events.Get(context.Background())
	require.NoError(t, err)
	ev.Venue, ev.Symbol, ev.Type = venue, "BTC-USDT", schema.EventTrade
	return ev
}

// closesWithin fails the test unless done closes within 30 s.
func closesWithin(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal(what)
	}
}

// Books published a venue's owed connection states holding one lock of
// all venues (flushStates): a next sink that called back into the same
// Books while a state went out — a host's sink that publishes an event
// of its own on a connection state — deadlocked on it, and every other
// venue's reader waited behind a publication that can wait up to
// StateTimeout for the pool. The states now go out outside that lock;
// the venue's own events still wait for them (order kept).
func TestS36OwedStatesPublishedOutsideTheLock(t *testing.T) {
	loss := stateMark{state: schema.ConnDisconnected, reason: "eof", at: 100}
	for _, venue := range []schema.Venue{schema.VenueBinance, schema.VenueOKX} {
		t.Run("sink calls back with "+string(venue), func(t *testing.T) {
			events, sink, books := hookBooks()
			sink.hook = func(ctx context.Context, ev *schema.CanonicalEvent) {
				if ev.Type == schema.EventConnState {
					_ = books.Publish(ctx, pooledTrade(t, events, venue))
				}
			}
			books.oweState(schema.VenueOKX, loss)
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = books.Publish(context.Background(), pooledTrade(t, events, schema.VenueOKX))
			}()
			closesWithin(t, done, "a sink calling back into the Books deadlocked")
			require.Equal(t, []schema.ConnState{schema.ConnDisconnected}, statesOf(&sink.recSink))
			require.Len(t, sink.ofType(schema.EventTrade), 2)
			require.Zero(t, events.Stats().InUse)
		})
	}
	t.Run("other venue goes on", func(t *testing.T) {
		events, sink, books, release, okxDone := flushHeld(t, loss)
		other := make(chan struct{})
		go func() {
			defer close(other)
			_ = books.Publish(context.Background(), pooledTrade(t, events, schema.VenueBinance))
		}()
		closesWithin(t, other, "another venue's event waited for OKX's state to go out")
		close(release)
		closesWithin(t, okxDone, "OKX's event never went out")
		got := sink.ofType(schema.EventTrade)
		require.Len(t, got, 2)
		require.Equal(t, schema.VenueOKX, got[1].Venue, "OKX's event went out before its owed state")
		require.Zero(t, events.Stats().InUse)
	})
	t.Run("same venue waits", func(t *testing.T) {
		events, sink, books, release, first := flushHeld(t, loss)
		waits := &doneWatch{Context: context.Background(), asked: make(chan struct{})}
		second := make(chan struct{})
		go func() {
			defer close(second)
			_ = books.Publish(waits, pooledTrade(t, events, schema.VenueOKX))
		}()
		closesWithin(t, waits.asked, "OKX's next event did not wait for its owed state")
		require.Empty(t, sink.ofType(schema.EventTrade), "an event of OKX went out before its owed state")
		close(release)
		closesWithin(t, first, "OKX's event never went out")
		closesWithin(t, second, "OKX's next event never went out")
		require.Len(t, sink.ofType(schema.EventTrade), 2)
		require.Equal(t, schema.EventConnState, sink.got[0].Type)
		require.Zero(t, events.Stats().InUse)
	})
}

// flushHeld is a Books owing OKX the state m, whose publication, started
// by an OKX trade on a goroutine of its own, holds in the next sink until
// release is closed; done closes once that trade's Publish returns.
func flushHeld(t *testing.T, m stateMark) (events poolOfEvents, sink *hookSink, books *Books, release, done chan struct{}) {
	events, sink, books = hookBooks()
	entered, release := make(chan struct{}), make(chan struct{})
	sink.hook = func(_ context.Context, ev *schema.CanonicalEvent) {
		if ev.Type == schema.EventConnState {
			close(entered)
			<-release
		}
	}
	books.oweState(schema.VenueOKX, m)
	done = make(chan struct{})
	go func() {
		defer close(done)
		_ = books.Publish(context.Background(), pooledTrade(t, events, schema.VenueOKX))
	}()
	closesWithin(t, entered, "the owed state never went out")
	return events, sink, books, release, done
}

// doneWatch is a context that tells, by closing asked, when a caller
// first asks for its Done channel: a wait on it is about to begin.
type doneWatch struct {
	context.Context
	once  sync.Once
	asked chan struct{}
}

func (c *doneWatch) Done() <-chan struct{} {
	c.once.Do(func() { close(c.asked) })
	return c.Context.Done()
}

// hookBooks is a Books without books whose next sink is a hookSink.
func hookBooks() (poolOfEvents, *hookSink, *Books) {
	events := newEventsPool()
	sink := &hookSink{recSink: recSink{events: events}}
	return events, sink, NewBooks(sink, events, nil)
}
