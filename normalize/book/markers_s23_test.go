package book_test

// Review s23, from the package documentation and the exported API only.

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

func s23Snapshot(seq uint64) *schema.CanonicalEvent {
	ev := &schema.CanonicalEvent{Venue: schema.VenueBybit, Symbol: "BTC-USDT", Type: schema.EventBookSnapshot, IngestTS: 1}
	ev.Book.LastSeq = seq
	ev.Book.Depth = book.Bybit.Depth
	ev.Book.Bids = []schema.Level{{Price: schema.MustParseDecimal("100"), Qty: schema.MustParseDecimal("1")}}
	ev.Book.Asks = []schema.Level{{Price: schema.MustParseDecimal("101"), Qty: schema.MustParseDecimal("1")}}
	return ev
}

// Apply: a gap marker of the venue about the book — its symbol or the
// whole connection, GapType book diffs, book snapshots or no type —
// invalidates it (never served stale after a gap); a marker about another
// stream (trades, best bid/offer), another symbol or another venue leaves
// it live.
func TestS23BookGapMarkers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		venue   schema.Venue
		sym     string
		gapType schema.EventType
		breaks  bool
	}{
		{"book diffs", schema.VenueBybit, "BTC-USDT", schema.EventBookUpdate, true},
		{"book snapshots", schema.VenueBybit, "BTC-USDT", schema.EventBookSnapshot, true},
		{"no type", schema.VenueBybit, "BTC-USDT", schema.EventUnknown, true},
		{"whole connection", schema.VenueBybit, "", schema.EventUnknown, true},
		{"whole connection's books", schema.VenueBybit, "", schema.EventBookUpdate, true},
		{"trades", schema.VenueBybit, "BTC-USDT", schema.EventTrade, false},
		{"best bid/offer", schema.VenueBybit, "BTC-USDT", schema.EventBBO, false},
		{"another symbol", schema.VenueBybit, "ETH-USDT", schema.EventBookUpdate, false},
		{"another venue", schema.VenueOKX, "BTC-USDT", schema.EventBookUpdate, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := book.NewBook(book.Bybit, "BTC-USDT", nil)
			require.NoError(t, err)
			ctx := context.Background()
			require.NoError(t, b.Apply(ctx, s23Snapshot(10)))
			require.True(t, b.Live())
			require.NoError(t, b.Apply(ctx, &schema.CanonicalEvent{Venue: tc.venue, Symbol: tc.sym, Type: schema.EventGap, IngestTS: 2,
				Control: &schema.Control{Kind: schema.ControlGap, GapType: tc.gapType, GapSource: schema.GapVenue}}))
			bbo, live := b.BBO()
			if !tc.breaks {
				require.True(t, live)
				require.Equal(t, "100", bbo.BidPrice.String())
				return
			}
			require.False(t, live, "a book must not be served after a gap")
			require.True(t, bbo.BidPrice.IsZero() && bbo.AskPrice.IsZero(), "nothing stale survives")
			var top schema.CanonicalEvent
			require.False(t, b.Top(5, &top))
			require.Empty(t, top.Book.Bids)
			require.Empty(t, top.Book.Asks)
			// The next snapshot makes it live again.
			require.NoError(t, b.Apply(ctx, s23Snapshot(20)))
			require.True(t, b.Live())
		})
	}
}

// s23Sink keeps a clone of every event and returns the original.
type s23Sink struct {
	events interface{ Put(*schema.CanonicalEvent) }
	got    []*schema.CanonicalEvent
}

func (s *s23Sink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s.got = append(s.got, ev.Clone())
	s.events.Put(ev)
	return nil
}

// "Every change of the best bid or offer is published as a pooled
// schema.EventBBO." A book that breaks goes from a best bid/offer to none:
// a subscriber of best bid/offers alone (whose filter the book's gap
// marker, about book diffs, does not reach) must not be left holding the
// broken book's last quote as the latest. Every way of breaking: a gap
// marker, a lost connection, a crossed book, a sequence gap.
func TestS23BrokenBookPublishesNoQuote(t *testing.T) {
	t.Parallel()
	diff := func(seq uint64, bid string) *schema.CanonicalEvent {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBybit, Symbol: "BTC-USDT", Type: schema.EventBookUpdate, IngestTS: 3}
		ev.Book.LastSeq, ev.Book.Depth = seq, book.Bybit.Depth
		ev.Book.Bids = []schema.Level{{Price: schema.MustParseDecimal(bid), Qty: schema.MustParseDecimal("1")}}
		return ev
	}
	for _, tc := range []struct {
		name    string
		breaker *schema.CanonicalEvent
	}{
		{"gap marker", &schema.CanonicalEvent{Venue: schema.VenueBybit, Symbol: "BTC-USDT", Type: schema.EventGap, IngestTS: 2,
			Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate, GapSource: schema.GapVenue}}},
		{"lost connection", &schema.CanonicalEvent{Venue: schema.VenueBybit, Type: schema.EventConnState, IngestTS: 2,
			Control: &schema.Control{Kind: schema.ControlConnState, State: schema.ConnDisconnected}}},
		{"crossed", diff(11, "102")},
		{"sequence gap", diff(13, "100.5")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pools := schema.NewPools(nil)
			sink := &s23Sink{events: pools.Events}
			b, err := book.NewBook(book.Bybit, "BTC-USDT", &book.Options{Sink: sink, Events: pools.Events})
			require.NoError(t, err)
			ctx := context.Background()
			require.NoError(t, b.Apply(ctx, s23Snapshot(10)))
			lastBBO := func() *schema.CanonicalEvent {
				for i := len(sink.got) - 1; i >= 0; i-- {
					if sink.got[i].Type == schema.EventBBO {
						return sink.got[i]
					}
				}
				return nil
			}
			require.Equal(t, "100", lastBBO().BBO.BidPrice.String())
			_ = b.Apply(ctx, tc.breaker)
			require.False(t, b.Live())
			q := lastBBO()
			require.True(t, q.BBO.BidPrice.IsZero() && q.BBO.AskPrice.IsZero() && q.BBO.BidQty.IsZero() && q.BBO.AskQty.IsZero(),
				"the broken book's last quote is withdrawn: %+v", q.BBO)
			n := len(sink.got)
			// Nothing more while it stays broken: no second withdrawal.
			_ = b.Apply(ctx, &schema.CanonicalEvent{Venue: schema.VenueBybit, Symbol: "BTC-USDT", Type: schema.EventGap, IngestTS: 4,
				Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate}})
			for _, ev := range sink.got[n:] {
				require.NotEqual(t, schema.EventBBO, ev.Type)
			}
			// Live again: its quote is published.
			snap := s23Snapshot(20)
			snap.IngestTS = 5
			require.NoError(t, b.Apply(ctx, snap))
			require.True(t, b.Live())
			require.Equal(t, "100", lastBBO().BBO.BidPrice.String())
			require.Zero(t, pools.Events.Stats().InUse)
		})
	}
}

// A best bid/offer dropped on an exhausted pool ("dropped and counted,
// never waited for") must not leave subscribers with the one before it for
// good: coalescable data is latest-wins, "always the latest in the end".
// The book publishes its latest best bid/offer with the next message it
// applies once the pool has room, even one that does not move the top.
func TestS23DroppedBBOIsPublishedLater(t *testing.T) {
	t.Parallel()
	events := pool.New("s23-events", 4, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	sink := &s23Sink{events: events}
	b, err := book.NewBook(book.Bybit, "BTC-USDT", &book.Options{Sink: sink, Events: events})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, b.Apply(ctx, s23Snapshot(10)))
	require.Equal(t, "100", sink.got[len(sink.got)-1].BBO.BidPrice.String())
	diff := func(seq uint64, bid string) *schema.CanonicalEvent {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBybit, Symbol: "BTC-USDT", Type: schema.EventBookUpdate, IngestTS: int64(seq)}
		ev.Book.LastSeq, ev.Book.Depth = seq, book.Bybit.Depth
		ev.Book.Bids = []schema.Level{{Price: schema.MustParseDecimal(bid), Qty: schema.MustParseDecimal("1")}}
		return ev
	}
	var held []*schema.CanonicalEvent
	for {
		ev, err := events.TryGet()
		if err != nil {
			break
		}
		held = append(held, ev)
	}
	require.NoError(t, b.Apply(ctx, diff(11, "100.5"))) // the top moves; no object to say so
	require.Equal(t, uint64(1), b.Stats().BBODropped)
	require.Equal(t, "100", sink.got[len(sink.got)-1].BBO.BidPrice.String())
	for _, ev := range held {
		events.Put(ev)
	}
	require.NoError(t, b.Apply(ctx, diff(12, "99"))) // beneath the top
	last := sink.got[len(sink.got)-1]
	require.Equal(t, schema.EventBBO, last.Type)
	require.Equal(t, "100.5", last.BBO.BidPrice.String(), "the latest best bid/offer, once the pool has room")
	n := len(sink.got)
	require.NoError(t, b.Apply(ctx, diff(13, "98")))
	require.Len(t, sink.got, n, "published once")
	require.Zero(t, events.Stats().InUse)
}
