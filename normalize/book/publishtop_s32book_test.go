package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// tenLevels is a Coinbase book of 10 levels a side.
func tenLevels() *schema.CanonicalEvent {
	var bids, asks []schema.Level
	for i := range 10 {
		bids = append(bids, schema.Level{Price: schema.NewDecimal(int64(100-i), 0), Qty: schema.NewDecimal(1, 0)})
		asks = append(asks, schema.Level{Price: schema.NewDecimal(int64(101+i), 0), Qty: schema.NewDecimal(1, 0)})
	}
	ev := bookEv(schema.VenueCoinbase, schema.EventBookSnapshot, 0, 0, 0, bids, asks)
	ev.IngestTS = 1
	return ev
}

// PublishTop(n) published the best n levels a side as an
// EventBookSnapshot of Depth 0 — in the schema, the whole book (or a view
// not said) — the very key (venue, symbol, type, depth) of a whole-book
// venue's own snapshots (Coinbase level2). A book downstream of the
// dispatcher (a relay's far side) took the top 3 for the whole book and
// went live on it, missing every level past the 3rd with nothing to say
// so (Coinbase has no checksum). PublishTop now names its view: Depth n,
// a top-n view of the book, which a whole-book venue's book never takes
// for its stream (Stats.OtherViews), and which the dispatcher keeps apart
// from the venue's own stream.
func TestS32PublishTopNamesItsView(t *testing.T) {
	up, _, _ := newRecBook(t, Coinbase, "BTC-USDT", nil)
	require.NoError(t, up.Apply(context.Background(), tenLevels()))
	require.True(t, up.Live())

	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	down, _, _ := newRecBook(t, Coinbase, "BTC-USDT", nil)
	downstream := NewBooks(nil, events, nil)
	downstream.Add(down)
	up.o.Sink, up.o.Events = downstream, events
	require.NoError(t, up.PublishTop(context.Background(), 3))
	require.False(t, down.Live(), "a top-3 snapshot taken for the whole book")
	require.Equal(t, uint64(1), down.Stats().OtherViews)
	require.Zero(t, events.Stats().InUse)

	// All levels: the book's whole view, Depth 0, which it is.
	require.NoError(t, up.PublishTop(context.Background(), 0))
	require.True(t, down.Live())
	var top schema.CanonicalEvent
	down.Top(0, &top)
	require.Len(t, top.Book.Bids, 10)
}

// Through a real dispatcher, the book's top (PublishTop) and a venue's
// partial-depth snapshots of the symbol (Depth 5: OKX books5, Binance
// @depth5) are ordered events of streams of their own (dispatch keyOf:
// venue, symbol, type, depth): neither replaces the other in a
// subscriber's queue, each arrives, in order.
func TestS32PublishTopBesideAVenueView(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	d := dispatch.New(events, nil)
	sub, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBookSnapshot}}, nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, d.Close(ctx))
	})

	b, err := NewBook(OKX, "BTC-USDT", &Options{Sink: d, Events: events})
	require.NoError(t, err)
	snap := tenLevels()
	snap.Venue = schema.VenueOKX
	snap.Book.Depth = OKX.Depth
	snap.Book.LastSeq = 7
	require.NoError(t, b.Apply(context.Background(), snap))
	require.True(t, b.Live())

	view := func() *schema.CanonicalEvent {
		ev, err := events.Get(context.Background())
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type = schema.VenueOKX, "BTC-USDT", schema.EventBookSnapshot
		ev.Book.Depth = 5
		ev.Book.Bids = append(ev.Book.Bids, snap.Book.Bids[:5]...)
		ev.Book.Asks = append(ev.Book.Asks, snap.Book.Asks[:5]...)
		return ev
	}
	require.NoError(t, d.Publish(context.Background(), view()))
	require.NoError(t, b.PublishTop(context.Background(), 5))
	require.NoError(t, d.Publish(context.Background(), view()))

	var got []int
	for range 3 {
		select {
		case ev := <-sub.C():
			got = append(got, len(ev.Book.Bids))
			require.Equal(t, 5, ev.Book.Depth)
		case <-time.After(30 * time.Second):
			t.Fatalf("got %v, want three snapshots", got)
		}
	}
	require.Equal(t, []int{5, 5, 5}, got)
}
