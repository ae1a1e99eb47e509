package book

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// gateClock holds the client in its backoff until released: the test sees
// the book while the connection is down, for as long as it needs, without
// sleeping.
type gateClock struct {
	wsclient.Clock // timers are real; only the redial wait is gated
	sleeping       chan struct{}
	release        chan struct{}
}

func (c *gateClock) Sleep(ctx context.Context, _ time.Duration) error {
	return c.gate(ctx)
}

// SleepUntil is what the client's backoff waits on (wsclient arms the wait
// before it announces Reconnecting, so a clock with SleepUntil is given the
// instant; without it the wait is a NewTimer and Sleep is never called).
func (c *gateClock) SleepUntil(ctx context.Context, _ time.Time) error {
	return c.gate(ctx)
}

func (c *gateClock) gate(ctx context.Context) error {
	select {
	case c.sleeping <- struct{}{}:
	default:
	}
	select {
	case <-c.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Through a real loopback connection, with the client's OnEvent set to
// Books.OnEvent and no other wiring: when the venue drops the connection,
// the book is invalid while the client waits to redial — Live false, no
// best bid/offer, an empty top, a gap marker and the connection state on
// the dispatcher — and it resynchronises once the client is back.
func TestSimDisconnectInvalidates(t *testing.T) {
	clock := &gateClock{Clock: wsclient.SystemClock(), sleeping: make(chan struct{}, 1), release: make(chan struct{})}
	p := startSimClock(t, Binance, nil, clock)
	states, err := p.d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventConnState}}, &dispatch.SubscribeOptions{CriticalBound: 1 << 10})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.d.Unsubscribe(states)) })
	p.requireSynced(t)
	_, live := p.book.BBO()
	require.True(t, live)

	require.Positive(t, p.v.Inject(venuesim.FaultClose))
	select {
	case <-clock.sleeping: // the client is down, waiting to redial
	case <-time.After(10 * time.Second):
		t.Fatal("the client never backed off")
	}
	m := p.waitMarker(t)
	require.Equal(t, ReasonReconnect, m.Control.Reason)
	require.Eventually(t, func() bool { return !p.book.Live() }, 10*time.Second, time.Millisecond)
	bbo, live := p.book.BBO()
	require.False(t, live)
	require.Equal(t, schema.BBO{}, bbo, "no stale best bid/offer")
	var top schema.CanonicalEvent
	require.False(t, p.book.Top(5, &top))
	require.Empty(t, top.Book.Bids)
	require.Empty(t, top.Book.Asks)
	waitState(t, states, schema.ConnDisconnected)

	close(clock.release)
	waitState(t, states, schema.ConnConnected)
	p.requireSynced(t)
}

func waitState(t *testing.T, sub *dispatch.Subscription, want schema.ConnState) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-sub.C():
			if ev.Control.State == want {
				require.Equal(t, schema.VenueBinance, ev.Venue)
				require.Equal(t, schema.ControlConnState, ev.Control.Kind)
				require.NotZero(t, ev.IngestTS)
				return
			}
		case <-deadline:
			t.Fatalf("no %s state event", want)
		}
	}
}

// OnEvent without a connection: each change of state is applied to the
// venue's books and published once (reported errors that keep the state
// are not); disconnected, reconnecting and closed invalidate, other venues'
// books are untouched, and next sees every event.
func TestOnEvent(t *testing.T) {
	bk, sink, events := newRecBook(t, Bybit, "BTC-USDT", nil)
	other, _, _ := newRecBook(t, OKX, "BTC-USDT", nil)
	books := NewBooks(sink, events, nil)
	books.Add(bk)
	books.Add(other)
	var seen []schema.ConnState
	fn := books.OnEvent(schema.VenueBybit, func(e wsclient.Event) { seen = append(seen, e.State) })
	ctx := context.Background()
	snap := bybitEvent(t, readVenue(t, "bybit_v5_orderbook_snapshot.json"))
	okxSnap := okxEvent(t, readVenue(t, "okx_books_snapshot.json"))
	for _, state := range []schema.ConnState{schema.ConnDisconnected, schema.ConnReconnecting, schema.ConnClosed} {
		t.Run(state.String(), func(t *testing.T) {
			require.NoError(t, bk.Apply(ctx, snap))
			require.NoError(t, other.Apply(ctx, okxSnap))
			before := len(sink.ofType(schema.EventConnState))
			fn(wsclient.Event{State: schema.ConnConnected, ConnID: 1, At: time.Now()})
			require.True(t, bk.Live())
			fn(wsclient.Event{State: state, Reason: wsclient.ReasonIdle, ConnID: 1, At: time.Now()})
			fn(wsclient.Event{State: state, Reason: wsclient.ReasonHandlerError, Err: errors.New("handler"), ConnID: 1, At: time.Now()})
			require.False(t, bk.Live())
			_, live := bk.BBO()
			require.False(t, live)
			require.True(t, other.Live())
			got := sink.ofType(schema.EventConnState)[before:]
			require.Len(t, got, 2, "connected, then %s; the error report keeps the state", state)
			require.Equal(t, state, got[1].Control.State)
			require.Equal(t, schema.VenueBybit, got[1].Venue)
			require.Equal(t, "idle", got[1].Control.Reason)
		})
	}
	require.Len(t, seen, 9)
	require.Len(t, sink.ofType(schema.EventGap), 3)
}

// wsclient reports state on its own goroutine, which may lag behind the
// reader: a disconnection older than the snapshot that made the book live
// (a newer connection's) leaves the book alone; a newer one, or one
// without a time, invalidates it.
func TestLateDisconnect(t *testing.T) {
	bk, sink, _ := newRecBook(t, Bybit, "BTC-USDT", nil)
	ctx := context.Background()
	snap := bybitEvent(t, readVenue(t, "bybit_v5_orderbook_snapshot.json"))
	lost := time.Now()
	snap.IngestTS = lost.Add(time.Millisecond).UnixNano() // the new connection's snapshot
	require.NoError(t, bk.Apply(ctx, snap))
	state := func(at int64) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Venue: schema.VenueBybit, Type: schema.EventConnState, IngestTS: at,
			Control: &schema.Control{Kind: schema.ControlConnState, State: schema.ConnDisconnected}}
	}
	require.NoError(t, bk.Apply(ctx, state(lost.UnixNano())))
	require.True(t, bk.Live(), "news of the previous connection")
	require.Empty(t, sink.ofType(schema.EventGap))
	require.NoError(t, bk.Apply(ctx, state(snap.IngestTS+1)))
	require.False(t, bk.Live())
	require.NoError(t, bk.Apply(ctx, snap))
	require.NoError(t, bk.Apply(ctx, state(0)))
	require.False(t, bk.Live(), "no time: always invalidates")

	// Live on the old connection when the new one's snapshot, or a diff
	// whose u chains, arrives before the news: the news is old.
	// (Later than the losses applied above: data received before an
	// applied loss is the dead connection's tail, see TestAdversarialTailAfterLoss.)
	lost = lost.Add(10 * time.Millisecond)
	old := bybitEvent(t, readVenue(t, "bybit_v5_orderbook_snapshot.json"))
	old.IngestTS = lost.Add(-time.Second).UnixNano()
	for _, fresh := range []*schema.CanonicalEvent{snap, bybitEvent(t, readVenue(t, "bybit_v5_orderbook_delta.json"))} {
		require.NoError(t, bk.Apply(ctx, old))
		fresh.IngestTS = lost.Add(time.Millisecond).UnixNano()
		require.NoError(t, bk.Apply(ctx, fresh))
		require.NoError(t, bk.Apply(ctx, state(lost.UnixNano())))
		require.True(t, bk.Live(), "fresh %s", fresh.Type)
	}
	require.NoError(t, bk.Apply(ctx, state(lost.Add(time.Second).UnixNano())))
	require.False(t, bk.Live())
}

// A book invalidated by a lost connection waits for the snapshot the
// connection's resubscription brings; if diffs come instead, it asks for
// one, once — again only after RetryInterval if the request failed.
func TestResubscribeWhenDiffsWait(t *testing.T) {
	var calls atomic.Int32
	var fail atomic.Bool
	bk, _, _ := newRecBook(t, Bybit, "BTC-USDT", &Options{RetryInterval: time.Nanosecond, Resubscribe: func(context.Context, schema.Venue, string) error {
		calls.Add(1)
		if fail.Load() {
			return errors.New("not now")
		}
		return nil
	}})
	var mu sync.Mutex
	clock := time.Unix(1_700_000_000, 0) // the book's: still, unless moved
	bk.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	ctx := context.Background()
	snap := bybitEvent(t, readVenue(t, "bybit_v5_orderbook_snapshot.json"))
	delta := bybitEvent(t, readVenue(t, "bybit_v5_orderbook_delta.json"))
	require.NoError(t, bk.Apply(ctx, snap))
	require.NoError(t, bk.Apply(ctx, &schema.CanonicalEvent{Venue: schema.VenueBybit, Type: schema.EventConnState,
		Control: &schema.Control{Kind: schema.ControlConnState, State: schema.ConnDisconnected}}))
	require.Zero(t, calls.Load(), "the connection's own resubscription brings the snapshot")
	for range 3 {
		require.NoError(t, bk.Apply(ctx, delta))
	}
	require.Equal(t, int32(1), calls.Load())
	require.Equal(t, uint64(3), bk.Stats().Waiting)

	// A failed request is repeated, RetryInterval later.
	require.NoError(t, bk.Apply(ctx, snap))
	require.NoError(t, bk.Apply(ctx, &schema.CanonicalEvent{Venue: schema.VenueBybit, Type: schema.EventConnState,
		Control: &schema.Control{Kind: schema.ControlConnState, State: schema.ConnReconnecting}}))
	fail.Store(true)
	require.Error(t, bk.Apply(ctx, delta))
	require.Eventually(t, func() bool {
		mu.Lock()
		clock = clock.Add(time.Nanosecond)
		mu.Unlock()
		return bk.Apply(ctx, delta) != nil && calls.Load() >= 3
	}, 10*time.Second, time.Millisecond)
	fail.Store(false)
	require.NoError(t, bk.Apply(ctx, snap))
	require.True(t, bk.Live())
}
