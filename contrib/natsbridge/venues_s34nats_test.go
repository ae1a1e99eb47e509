package natsbridge

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS34natsVenuePastBoundToldOfLostLink: the Consumer tells the venues
// whose market data it brought that their streams are stale when its link
// drops, and it keeps at most 256 of them. It kept the first 256 seen: a
// peer that once named 256 stray venues (a producer's test venues, a typo)
// left every venue after them — the host's real one — untold for the
// Consumer's life, its subscribers keeping the last quote, stale, with no
// sign and nothing counted. The venues told are the 256 seen most
// recently, and one forgotten is counted (ConsumerStats.VenuesForgotten).
func TestS34natsVenuePastBoundToldOfLostLink(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	states := make(chan StateEvent, 64)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{OnState: func(e StateEvent) { states <- e }})
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}
	for i := range maxVenues {
		tr := tradeOf("BTC-USDT", 1)
		tr.Venue = schema.Venue(fmt.Sprintf("stray%03d", i))
		raw.send(tr, 1)
	}
	raw.send(tradeOf("BTC-USDT", 1), 1) // the 257th venue
	require.Equal(t, schema.EventTrade, next(t, got, anyMarket).Type)
	eventually(t, func() bool { return cons.Stats().Delivered == maxVenues+1 }, "not every trade handed on: %+v", cons.Stats())
	require.Equal(t, uint64(1), cons.Stats().VenuesForgotten, "the least recently seen venue forgotten, counted")

	srv.Stop()
	awaitState(t, states, schema.ConnDisconnected)
	g := next(t, got, anyMarket)
	require.Equal(t, schema.EventGap, g.Type, "the 257th venue was not told its streams went stale: %+v", g)
	require.Equal(t, schema.EventUnknown, g.Control.GapType)
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}
