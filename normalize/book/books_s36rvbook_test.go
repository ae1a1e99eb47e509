package book

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A next sink that panics while an owed state goes out (flushStates,
// outside the Books' lock) left the venue's publication marked in
// progress for good: every later event of the venue waited for it with
// its ctx — for ever with context.Background(). A host's OnState that
// panics is recovered by the session, which goes on feeding the Books.
// Before s36book the lock was released by a defer and the state stayed
// owed; it must still be so.
func TestS36rvbookPanickingSinkLeavesTheVenueFlowing(t *testing.T) {
	events, sink, books := hookBooks()
	panics := 1
	sink.hook = func(_ context.Context, ev *schema.CanonicalEvent) {
		if ev.Type == schema.EventConnState && panics > 0 {
			panics--
			events.Put(ev) // Publish takes ownership in every case
			panic("host sink")
		}
	}
	books.oweState(schema.VenueOKX, stateMark{state: schema.ConnDisconnected, reason: "eof", at: 100})
	require.Panics(t, func() {
		_ = books.Publish(context.Background(), pooledTrade(t, events, schema.VenueOKX))
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = books.Publish(context.Background(), pooledTrade(t, events, schema.VenueOKX))
	}()
	closesWithin(t, done, "the venue's next event waits for a publication that panicked")
	require.Equal(t, []schema.ConnState{schema.ConnDisconnected}, statesOf(&sink.recSink), "the state the sink panicked on is still owed and goes out first")
	require.Len(t, sink.ofType(schema.EventTrade), 1)
	require.Equal(t, int64(1), events.Stats().InUse, "the trade of the Publish that panicked, before it was handed on; no other")
}

// Books has no Clock: a connection state the pool did not give in
// StateTimeout goes out before the venue's next event — and the client's
// last state (ConnClosed) has none after it. Books.Close, which the host
// calls before it closes the next sink (the session does), publishes
// what is still owed.
func TestS36rvbookCloseFlushesOwedStates(t *testing.T) {
	events, sink, books := hookBooks()
	books.oweState(schema.VenueOKX, stateMark{state: schema.ConnDisconnected, reason: "eof", at: 100})
	books.oweState(schema.VenueOKX, stateMark{state: schema.ConnClosed, at: 101})
	books.oweState(schema.VenueBinance, stateMark{state: schema.ConnClosed, at: 102})
	books.Close()
	require.ElementsMatch(t, []schema.ConnState{schema.ConnDisconnected, schema.ConnClosed, schema.ConnClosed}, statesOf(&sink.recSink))
	var okx []schema.ConnState
	for _, ev := range sink.ofType(schema.EventConnState) {
		if ev.Venue == schema.VenueOKX {
			okx = append(okx, ev.Control.State)
		}
	}
	require.Equal(t, []schema.ConnState{schema.ConnDisconnected, schema.ConnClosed}, okx, "in order")
	require.False(t, books.owing.Load())
	require.Zero(t, events.Stats().InUse)
	books.Close() // twice: nothing more
	require.Len(t, statesOf(&sink.recSink), 3)
}

// Two venues' owed states go out at once on two goroutines, and the next
// sink calls back, on each, with an event of the other venue (the
// builder's "sink calls back with binance", on both sides): each
// callback waited for the other venue's publication, which waited in
// its callback for the first's — for ever with context.Background(). A
// callback from within a publication of the Books waits for no other
// venue's: its event goes on (the other venue's states still go out).
func TestS36rvbookTwoVenuesCallingBackDoNotDeadlock(t *testing.T) {
	events, sink, books := hookBooks()
	var both sync.WaitGroup
	both.Add(2)
	var once [2]sync.Once
	sink.hook = func(ctx context.Context, ev *schema.CanonicalEvent) {
		if ev.Type != schema.EventConnState {
			return
		}
		i, other := 0, schema.VenueBinance
		if ev.Venue == schema.VenueBinance {
			i, other = 1, schema.VenueOKX
		}
		once[i].Do(func() {
			both.Done()
			both.Wait() // both publications in progress
			_ = books.Publish(ctx, pooledTrade(t, events, other))
		})
	}
	loss := stateMark{state: schema.ConnDisconnected, reason: "eof", at: 100}
	books.oweState(schema.VenueOKX, loss)
	books.oweState(schema.VenueBinance, loss)
	var done [2]chan struct{}
	for i, v := range []schema.Venue{schema.VenueOKX, schema.VenueBinance} {
		done[i] = make(chan struct{})
		go func() {
			defer close(done[i])
			_ = books.Publish(context.Background(), pooledTrade(t, events, v))
		}()
	}
	closesWithin(t, done[0], "OKX's publication waits for Binance's, which waits for OKX's")
	closesWithin(t, done[1], "Binance's publication waits for OKX's, which waits for Binance's")
	require.Len(t, statesOf(&sink.recSink), 2)
	require.Len(t, sink.ofType(schema.EventTrade), 4)
	require.False(t, books.owing.Load())
	require.Zero(t, events.Stats().InUse)
}

// A venue's events while another venue's states are owed look up their
// own venue's (flushStates) and allocate nothing: owing is one flag for
// every venue.
func TestS36rvbookOtherVenueOwingAllocatesNothing(t *testing.T) {
	events := newEventsPool()
	books := NewBooks(nil, events, nil)
	books.oweState(schema.VenueOKX, stateMark{state: schema.ConnDisconnected, at: 100})
	require.True(t, books.owing.Load())
	ctx := context.Background()
	allocs := testing.AllocsPerRun(200, func() {
		ev, _ := events.TryGet()
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTCUSDT", schema.EventTrade
		_ = books.Publish(ctx, ev)
	})
	require.Zero(t, allocs)
	require.True(t, books.owing.Load(), "OKX's state still owed")
}
