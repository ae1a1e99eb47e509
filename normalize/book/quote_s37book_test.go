package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A lost connection withdraws the book's quote (an EventBBO with no bid
// and no ask). A venue quote (OKX bbo-tbt, Binance bookTicker) the dead
// connection's reader hands on after the loss was applied — received
// before it, its tail — went through Books.Publish all the same: the
// subscribers' latest best bid/offer was then the quote of a lost
// connection, after the withdrawal, until the venue sent one on the new
// connection. The book's own messages of that tail are dropped
// (Stats.AfterLoss); the symbol's quotes are now too.
func TestS37bookQuoteOfALostConnectionsTailIsDropped(t *testing.T) {
	b, sink, events, books := newOKXBooks(t)
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	ctx := context.Background()
	loss, err := events.Get(ctx)
	require.NoError(t, err)
	lc := lostConn(schema.VenueOKX, 1_000)
	loss.Venue, loss.Type, loss.IngestTS, loss.Control = lc.Venue, lc.Type, lc.IngestTS, lc.Control
	require.NoError(t, books.Publish(ctx, loss))
	require.False(t, b.Live())

	quote := func(ingest int64, bid string) *schema.CanonicalEvent {
		ev, err := events.Get(ctx)
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type = schema.VenueOKX, "BTC-USDT", schema.EventBBO
		ev.ExchangeTS, ev.IngestTS = 1_800_000_000_000_000_000, ingest
		bl, al := lvl(bid, "1"), lvl("101", "1")
		ev.BBO.BidPrice, ev.BBO.BidQty, ev.BBO.AskPrice, ev.BBO.AskQty = bl.Price, bl.Qty, al.Price, al.Qty
		return ev
	}
	require.NoError(t, books.Publish(ctx, quote(500, "100.5")))  // the dead connection's tail
	require.NoError(t, books.Publish(ctx, quote(2_000, "99.5"))) // the new connection's
	require.Equal(t, []string{"100/101", "0/0", "99.5/101"}, s31quoteBBOs(sink),
		"the lost connection's quote came after the withdrawal")
	require.Equal(t, uint64(1), b.Stats().AfterLoss)
}
