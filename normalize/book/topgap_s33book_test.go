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

// lostConn is wsclient's report of a lost connection of venue, stamped
// at.
func lostConn(venue schema.Venue, at int64) *schema.CanonicalEvent {
	return &schema.CanonicalEvent{Venue: venue, Type: schema.EventConnState, IngestTS: at,
		Control: &schema.Control{Kind: schema.ControlConnState, State: schema.ConnDisconnected}}
}

// A host that follows a book through its tops (PublishTop, EventBookSnapshot
// of Depth n) subscribes the dispatcher to EventBookSnapshot. The book's
// gap marker reports on its diffs (GapType EventBookUpdate), which the
// dispatcher routes to the subscribers of diffs and of markers only: such
// a host kept the broken book's last top as current, told nothing (and
// nothing more comes: a book not live publishes no top). A book that
// published tops now also announces its break to their stream: a marker
// with GapType EventBookSnapshot and the view published (Book.Depth n),
// in line after the tops it published before.
func TestS33BrokenBookAnnouncedToItsTopSubscribers(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	d := dispatch.New(events, nil)
	sub, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBookSnapshot}}, nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, d.Close(ctx))
	})
	b, err := NewBook(Coinbase, "BTC-USDT", &Options{Sink: d, Events: events})
	require.NoError(t, err)
	require.NoError(t, b.Apply(context.Background(), tenLevels()))
	require.NoError(t, b.PublishTop(context.Background(), 3))
	require.NoError(t, b.Apply(context.Background(), lostConn(schema.VenueCoinbase, 2)))
	require.False(t, b.Live())

	next := func() *schema.CanonicalEvent {
		select {
		case ev := <-sub.C():
			return ev
		case <-time.After(30 * time.Second):
			t.Fatalf("nothing more delivered; %+v", sub.Stats())
			return nil
		}
	}
	top := next()
	require.Equal(t, schema.EventBookSnapshot, top.Type)
	require.Equal(t, 3, top.Book.Depth)
	// The marker about its diffs reaches snapshots' subscribers too
	// (s38rvbook); a whole-book venue's names view 0, every view: it is
	// the top subscriber's one marker (s39book: no second about view 3).
	mk := next()
	require.Equal(t, schema.EventGap, mk.Type, "the broken book's top subscriber is told")
	require.Equal(t, schema.EventBookUpdate, mk.Control.GapType)
	require.Equal(t, 0, mk.Book.Depth)
	require.Equal(t, "BTC-USDT", mk.Symbol)
	require.Equal(t, ReasonReconnect, mk.Control.Reason)

	// Once per breakage: the book, not live, publishes no top, and its
	// next break (after going live and publishing none) tells the top
	// stream nothing more.
	snap := func(at int64) *schema.CanonicalEvent { ev := tenLevels(); ev.IngestTS = at; return ev }
	require.NoError(t, b.Apply(context.Background(), snap(3)))
	require.True(t, b.Live())
	require.NoError(t, b.Apply(context.Background(), lostConn(schema.VenueCoinbase, 4)))
	require.NoError(t, b.PublishTop(context.Background(), 3)) // not live: nothing
	require.NoError(t, b.Apply(context.Background(), snap(5)))
	require.True(t, b.Live())
	require.NoError(t, b.PublishTop(context.Background(), 2))
	diffs := next()
	require.Equal(t, schema.EventBookUpdate, diffs.Control.GapType, "the second break's marker about its diffs")
	top = next()
	require.Equal(t, 2, top.Book.Depth, "no marker about tops for a break after which no top was out")
}

// A silent book (Options.MaxSilence) publishes no top either: its top's
// subscribers are told too, once, with the silence marker.
func TestS33SilentBookAnnouncedToItsTopSubscribers(t *testing.T) {
	clk := newStepClock()
	b, sink, _ := newRecBook(t, OKX, "BTC-USDT", &Options{MaxSilence: 5 * time.Second, Clock: clk})
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	require.NoError(t, b.PublishTop(context.Background(), 3))
	clk.step(5 * time.Second)
	require.False(t, b.Live())
	var tops []*schema.CanonicalEvent
	for _, g := range sink.ofType(schema.EventGap) {
		require.Equal(t, ReasonSilent, g.Control.Reason)
		if g.Control.GapType == schema.EventBookSnapshot {
			tops = append(tops, g)
		}
	}
	require.Len(t, tops, 1, "the silent book's top subscribers are told")
	require.Equal(t, 3, tops[0].Book.Depth)
}
