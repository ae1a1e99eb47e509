package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s38quote is a pooled OKX bbo-tbt quote of BTC-USDT received at ingest.
func s38quote(t *testing.T, events poolOfEvents, ingest int64, bid string) *schema.CanonicalEvent {
	t.Helper()
	ev, err := events.TryGet()
	require.NoError(t, err)
	ev.Venue, ev.Symbol, ev.Type = schema.VenueOKX, "BTC-USDT", schema.EventBBO
	ev.ExchangeTS, ev.IngestTS = 1_800_000_000_000_000_000+ingest, ingest
	bl, al := lvl(bid, "1"), lvl("101", "1")
	ev.BBO.BidPrice, ev.BBO.BidQty, ev.BBO.AskPrice, ev.BBO.AskQty = bl.Price, bl.Qty, al.Price, al.Qty
	return ev
}

// s38loss is client's connection lost at ingest (wsclient's stamp).
func s38loss(ingest int64) wsclient.Event {
	return wsclient.Event{State: schema.ConnDisconnected, Reason: wsclient.ReasonReadError, ConnID: 1, IngestTS: ingest}
}

// A quote received before a lost connection the book applied is that
// connection's tail and is dropped (s37book). With one Books fed by two
// clients of a venue — one carrying the depth, one the quote stream —
// the loss of one dropped a SURVIVING connection's quote too, received
// up to a minute before it and handed on after it: in a quiet market the
// subscribers' latest stayed the withdrawal, though the venue's quote
// stream was live. Which connection a quote came on is not in the
// event: through a Feed (Books.Feed) a quote is a tail only when the
// Feed's client lost its connection. (Through Books.Publish, which cannot
// tell, the book's own tail rule drops it, on the safe side:
// TestS38book2PublishDropsALostConnectionsTailWithTwoClients.)
func TestS38bookSurvivingConnectionsQuoteIsNotATail(t *testing.T) {
	b, sink, events, books := newOKXBooks(t)
	depthConn := books.OnEvent(schema.VenueOKX, nil)
	quotes := books.Feed(schema.VenueOKX, nil) // the quote stream's client
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))

	depthConn(s38loss(1_000))
	require.False(t, b.Live())
	ctx := context.Background()
	require.NoError(t, quotes.Publish(ctx, s38quote(t, events, 900, "100.5"))) // the other client's, in flight
	require.Equal(t, []string{"100/101", "0/0", "100.5/101"}, s31quoteBBOs(sink),
		"a surviving connection's quote dropped as a lost one's tail")
	require.Zero(t, b.Stats().AfterLoss)
}

// Each client's Feed judges its quotes by its own connections' losses:
// the lost connection's tail is dropped, the surviving one's quote of the
// same instant delivered.
func TestS38bookFeedDropsOnlyItsOwnConnectionsTail(t *testing.T) {
	b, sink, events, books := newOKXBooks(t)
	lost, live := books.Feed(schema.VenueOKX, nil), books.Feed(schema.VenueOKX, nil)
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))

	lost.OnEvent(s38loss(1_000))
	require.False(t, b.Live())
	ctx := context.Background()
	require.NoError(t, lost.Publish(ctx, s38quote(t, events, 900, "100.5"))) // the dead connection's tail
	require.NoError(t, live.Publish(ctx, s38quote(t, events, 950, "99.5")))  // the surviving one's
	require.NoError(t, lost.Publish(ctx, s38quote(t, events, 1_100, "99")))  // the new connection's
	require.Equal(t, []string{"100/101", "0/0", "99.5/101", "99/101"}, s31quoteBBOs(sink))
	require.Equal(t, uint64(1), b.Stats().AfterLoss)
}
