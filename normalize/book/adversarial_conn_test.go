package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Lost connections in every order relative to the data, written apart
// from the implementation's tests: through Books.OnEvent only, as a host
// wires it, with several books of the venue and a book of another venue.

type advConnRig struct {
	t      *testing.T
	events *pool.Pool[*schema.CanonicalEvent]
	books  *Books
	on     func(wsclient.Event)
	bybit  []*Book // the venue that loses its connection
	okx    *Book   // another venue
	ctx    context.Context
}

func newAdvConnRig(t *testing.T) *advConnRig {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	r := &advConnRig{t: t, events: events, books: NewBooks(sink, events, nil), ctx: context.Background()}
	for _, sym := range []string{"BTC-USDT", "ETH-USDT", "SOL-USDT"} {
		b, err := NewBook(Bybit, sym, &Options{Sink: sink, Events: events})
		require.NoError(t, err)
		r.books.Add(b)
		r.bybit = append(r.bybit, b)
	}
	b, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	r.books.Add(b)
	r.okx = b
	r.on = r.books.OnEvent(schema.VenueBybit, nil)
	t.Cleanup(func() { require.Zero(t, events.Stats().InUse, "events not returned to the pool") })
	return r
}

// publish sends a pooled copy of ev through the Books, as a parser does.
func (r *advConnRig) publish(ev *schema.CanonicalEvent) {
	p, err := r.events.Get(r.ctx)
	require.NoError(r.t, err)
	ev.CloneInto(p)
	require.NoError(r.t, r.books.Publish(r.ctx, p))
}

func (r *advConnRig) snapshot(b *Book, seq uint64, at time.Time) {
	ev := bookEv(b.Venue(), schema.EventBookSnapshot, 0, seq, 0, []schema.Level{lvl("100", "1")}, []schema.Level{lvl("101", "1")})
	ev.Symbol, ev.IngestTS = b.Symbol(), at.UnixNano()
	r.publish(ev)
}

func (r *advConnRig) delta(b *Book, seq uint64, at time.Time) {
	ev := bookEv(b.Venue(), schema.EventBookUpdate, 0, seq, 0, []schema.Level{lvl("99", "2")}, nil)
	ev.Symbol, ev.IngestTS = b.Symbol(), at.UnixNano()
	r.publish(ev)
}

func (r *advConnRig) allBybit(t *testing.T, live bool, msg string) {
	t.Helper()
	for _, b := range r.bybit {
		require.Equal(t, live, b.Live(), "%s: %s", b.Symbol(), msg)
		_, ok := b.BBO()
		require.Equal(t, live, ok, "%s: BBO served: %s", b.Symbol(), msg)
		var top schema.CanonicalEvent
		b.Top(0, &top)
		if !live {
			require.Empty(t, top.Book.Bids, "%s: nothing of an invalid book is served", b.Symbol())
			require.Empty(t, top.Book.Asks, "%s: nothing of an invalid book is served", b.Symbol())
		}
	}
	require.True(t, r.okx.Live(), "another venue's book is not concerned: %s", msg)
}

func TestAdversarialConnOrders(t *testing.T) {
	base := time.Now()
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	for _, loss := range []schema.ConnState{schema.ConnDisconnected, schema.ConnReconnecting, schema.ConnClosed} {
		t.Run(loss.String(), func(t *testing.T) {
			r := newAdvConnRig(t)
			r.snapshot(r.okx, 10, at(0))

			// Lost before any data: nothing to invalidate, then the
			// snapshots make the books live.
			r.on(wsclient.Event{State: schema.ConnConnected, ConnID: 1, At: at(1)})
			r.on(wsclient.Event{State: loss, ConnID: 1, At: at(2)})
			r.on(wsclient.Event{State: schema.ConnConnected, ConnID: 2, At: at(3)})
			for _, b := range r.bybit {
				r.snapshot(b, 100, at(4))
			}
			r.allBybit(t, true, "snapshots after the loss")
			for _, b := range r.bybit {
				require.Zero(t, b.Stats().Markers)
			}

			// Data, then the loss: every book of the venue goes.
			for _, b := range r.bybit {
				r.delta(b, 101, at(5))
			}
			r.on(wsclient.Event{State: loss, ConnID: 2, At: at(6)})
			r.allBybit(t, false, "lost after data")
			for _, b := range r.bybit {
				require.Equal(t, uint64(1), b.Stats().Markers, "one marker per book")
			}

			// A diff of the new connection before its snapshot does not
			// bring the book back; the snapshot does.
			r.on(wsclient.Event{State: schema.ConnConnected, ConnID: 3, At: at(7)})
			r.delta(r.bybit[0], 102, at(8))
			require.False(t, r.bybit[0].Live())
			for _, b := range r.bybit {
				r.snapshot(b, 200, at(9))
			}
			r.allBybit(t, true, "the new connection's snapshots")

			// News of the loss after the new connection's snapshot (the
			// state goroutine lagging): the books stay live.
			r.on(wsclient.Event{State: loss, ConnID: 3, At: at(8)})
			r.allBybit(t, true, "a loss older than the snapshots")
			r.on(wsclient.Event{State: schema.ConnConnected, ConnID: 4, At: at(8)})

			// A diff whose u chains proves the book good past a loss it
			// precedes in time; one at the same instant does not.
			for _, b := range r.bybit {
				r.delta(b, 201, at(10))
			}
			r.on(wsclient.Event{State: loss, ConnID: 4, At: at(10)})
			r.allBybit(t, false, "a loss at the instant of the last data")

			// A loss without a time always invalidates.
			r.on(wsclient.Event{State: schema.ConnConnected, ConnID: 5, At: at(11)})
			for _, b := range r.bybit {
				r.snapshot(b, 300, at(12))
			}
			r.on(wsclient.Event{State: loss, ConnID: 5})
			r.allBybit(t, false, "a loss with no time")

			// Dropped state events: a new connection named after dropped
			// events, with no loss seen, means the loss went unreported.
			r.on(wsclient.Event{State: schema.ConnConnected, ConnID: 6, At: at(13)})
			for _, b := range r.bybit {
				r.snapshot(b, 400, at(14))
			}
			r.allBybit(t, true, "connection 6")
			r.on(wsclient.Event{State: schema.ConnConnected, ConnID: 7, Dropped: 2, At: at(15)})
			r.allBybit(t, false, "a loss hidden by dropped events")
		})
	}
}

// A loss while a Binance snapshot fetch is in flight: the fetch holds the
// book, the loss waits for it, then invalidates what the fetch made live.
// A loss older than the diff that started the fetch (the new connection's)
// leaves the book live.
func TestAdversarialLossDuringFetch(t *testing.T) {
	for _, lossAfter := range []bool{true, false} {
		t.Run(map[bool]string{true: "loss after the diff", false: "loss before the diff"}[lossAfter], func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			books := NewBooks(nil, events, nil)
			entered, release := make(chan struct{}), make(chan struct{})
			b, err := NewBook(Binance, "BTC-USDT", &Options{Sink: &sinkPut{events: events}, Events: events,
				Fetcher: FetcherFunc(func(_ context.Context, _ string, dst *schema.CanonicalEvent) error {
					entered <- struct{}{}
					<-release
					dst.Type, dst.Venue, dst.Symbol = schema.EventBookSnapshot, schema.VenueBinance, "BTC-USDT"
					dst.Book.LastSeq = 1000
					dst.Book.Bids = []schema.Level{lvl("100", "1")}
					dst.Book.Asks = []schema.Level{lvl("101", "1")}
					return nil
				})})
			require.NoError(t, err)
			books.Add(b)
			on := books.OnEvent(schema.VenueBinance, nil)
			ctx := context.Background()
			diffAt := time.Now()

			applied := make(chan error, 1)
			go func() {
				ev, err := events.Get(ctx)
				if err != nil {
					applied <- err
					return
				}
				ev.Venue, ev.Symbol, ev.Type, ev.IngestTS = schema.VenueBinance, "BTC-USDT", schema.EventBookUpdate, diffAt.UnixNano()
				ev.Book.FirstSeq, ev.Book.LastSeq = 995, 1003
				ev.Book.Bids = append(ev.Book.Bids, lvl("100", "2"))
				applied <- books.Publish(ctx, ev)
			}()
			<-entered // the fetch is in flight, the book held
			lossAt := diffAt.Add(-time.Millisecond)
			if lossAfter {
				lossAt = diffAt.Add(time.Millisecond)
			}
			reported := make(chan struct{})
			go func() {
				on(wsclient.Event{State: schema.ConnConnected, ConnID: 1, At: lossAt.Add(-time.Second)})
				on(wsclient.Event{State: schema.ConnDisconnected, ConnID: 1, At: lossAt})
				close(reported)
			}()
			close(release)
			require.NoError(t, <-applied)
			<-reported
			require.Equal(t, !lossAfter, b.Live())
			if !lossAfter {
				requireTop(t, b, [][2]string{{"100", "2"}}, [][2]string{{"101", "1"}})
			}
			require.Zero(t, events.Stats().InUse)
		})
	}
}

// Two losses in a row as wsclient reports them, the events in between
// (the new connection's Connected) dropped from its full queue: the
// second loss is of another connection, on which the books went live, and
// must invalidate them although the state did not change.
func TestAdversarialLossAfterDroppedReconnect(t *testing.T) {
	base := time.Now()
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	r := newAdvConnRig(t)
	r.snapshot(r.okx, 10, at(0))
	r.on(wsclient.Event{State: schema.ConnConnected, ConnID: 1, At: at(1)})
	for _, b := range r.bybit {
		r.snapshot(b, 100, at(2))
	}
	r.on(wsclient.Event{State: schema.ConnDisconnected, ConnID: 1, At: at(3)})
	r.allBybit(t, false, "connection 1 lost")
	// Connection 2 connects (its event dropped) and its snapshots arrive.
	for _, b := range r.bybit {
		r.snapshot(b, 200, at(5))
	}
	r.allBybit(t, true, "connection 2's snapshots")
	r.on(wsclient.Event{State: schema.ConnDisconnected, ConnID: 2, Dropped: 1, At: at(6)})
	r.allBybit(t, false, "connection 2 lost, its Connected event dropped")
}

// The dead connection's tail: wsclient reports a loss (a failed ping, on
// its own goroutine) while the reader still hands on a message it received
// before. Applied after the loss, that message must not make the book live
// again on a connection that is gone: a ResyncResubscribe book would load
// an old snapshot, a Binance book would fetch a snapshot and join it, and
// either would then serve a best bid/offer that nothing updates. Data
// received after the loss does bring it back.
func TestAdversarialTailAfterLoss(t *testing.T) {
	base := time.Now()
	at := func(ms int) int64 { return base.Add(time.Duration(ms) * time.Millisecond).UnixNano() }
	loss := func(ms int) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Type: schema.EventConnState, IngestTS: at(ms),
			Control: &schema.Control{Kind: schema.ControlConnState, State: schema.ConnDisconnected}}
	}
	ctx := context.Background()
	t.Run("bybit", func(t *testing.T) {
		b, _, _ := newRecBook(t, Bybit, "BTC-USDT", nil)
		snap := func(ms int, u uint64) *schema.CanonicalEvent {
			ev := bookEv(schema.VenueBybit, schema.EventBookSnapshot, 0, u, 0, []schema.Level{lvl("100", "1")}, []schema.Level{lvl("101", "1")})
			ev.IngestTS = at(ms)
			return ev
		}
		require.NoError(t, b.Apply(ctx, snap(1, 100)))
		l := loss(4)
		l.Venue = schema.VenueBybit
		require.NoError(t, b.Apply(ctx, l))
		require.False(t, b.Live())
		require.NoError(t, b.Apply(ctx, snap(3, 101))) // received before the loss
		require.False(t, b.Live(), "the dead connection's tail")
		require.NoError(t, b.Apply(ctx, snap(5, 200)))
		require.True(t, b.Live(), "the new connection's snapshot")
		require.Equal(t, uint64(1), b.Stats().AfterLoss)

		// Stamps far older than the loss are another clock (a replay),
		// not a tail: not dropped for good.
		l = loss(10)
		l.Venue = schema.VenueBybit
		require.NoError(t, b.Apply(ctx, l))
		require.NoError(t, b.Apply(ctx, snap(10-2*60*1000, 300)))
		require.True(t, b.Live())
	})
	t.Run("binance", func(t *testing.T) {
		fetches := 0
		b, _, _ := newRecBook(t, Binance, "BTC-USDT", &Options{Fetcher: FetcherFunc(func(_ context.Context, _ string, dst *schema.CanonicalEvent) error {
			fetches++
			dst.Type, dst.Venue, dst.Symbol = schema.EventBookSnapshot, schema.VenueBinance, "BTC-USDT"
			dst.Book.LastSeq = 1000
			dst.Book.Bids = append(dst.Book.Bids, lvl("100", "1"))
			dst.Book.Asks = append(dst.Book.Asks, lvl("101", "1"))
			return nil
		})})
		diff := func(ms int, U, u uint64) *schema.CanonicalEvent {
			ev := bookEv(schema.VenueBinance, schema.EventBookUpdate, U, u, 0, []schema.Level{lvl("99", "1")}, nil)
			ev.IngestTS = at(ms)
			return ev
		}
		require.NoError(t, b.Apply(ctx, diff(1, 995, 1001)))
		require.True(t, b.Live())
		l := loss(4)
		l.Venue = schema.VenueBinance
		require.NoError(t, b.Apply(ctx, l))
		require.NoError(t, b.Apply(ctx, diff(3, 1002, 1003))) // received before the loss
		require.False(t, b.Live(), "the dead connection's tail")
		require.Equal(t, 1, fetches, "no fetch for the dead connection's tail")
		require.NoError(t, b.Apply(ctx, diff(5, 998, 1004)))
		require.True(t, b.Live(), "the new connection's diffs")
		require.Equal(t, 2, fetches)
	})
}
