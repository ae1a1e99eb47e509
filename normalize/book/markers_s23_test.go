package book_test

// Review s23, from the package documentation and the exported API only.

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize/book"
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
				Control: schema.Control{Kind: schema.ControlGap, GapType: tc.gapType, GapSource: schema.GapVenue}}))
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
