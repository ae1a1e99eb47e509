package natsbridge

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS25LinkLossMarksStreamsStale: when the Consumer's NATS connection
// drops, every stream it brought is stale until its next update, and a
// strategy reading one symbol's best bid/offer must hear it on that
// stream, not only from a connection state of the venue "nats" it may
// not subscribe to (DESIGN: market data is never silently stale). The
// Consumer publishes, after its state, a gap marker about every venue it
// brought (GapType unknown: every stream of the venue, which dispatch
// routes to every market data subscriber of the venue, whatever its
// symbols and types, and which replaces the quotes still queued).
func TestS25LinkLossMarksStreamsStale(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}, Symbols: []string{"BTC-USDT"}, Types: []schema.EventType{schema.EventBBO}})
	okx := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueOKX}, Types: []schema.EventType{schema.EventTrade}})
	states := make(chan StateEvent, 64)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{OnState: func(e StateEvent) { states <- e }})
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}
	bbo := tradeOf("BTC-USDT", 1)
	bbo.Type, bbo.Trade = schema.EventBBO, schema.Trade{}
	bbo.BBO.BidPrice = schema.MustParseDecimal("65000.1")
	raw.send(bbo, 1)
	require.Equal(t, schema.EventBBO, next(t, got, anyMarket).Type)
	tr := tradeOf("ETH-USDT", 1)
	tr.Venue = schema.VenueOKX
	raw.send(tr, 1)
	require.Equal(t, schema.EventTrade, next(t, okx, anyMarket).Type)

	srv.Stop()
	awaitState(t, states, schema.ConnDisconnected)
	for _, ch := range []<-chan *schema.CanonicalEvent{got, okx} {
		g := next(t, ch, anyMarket)
		require.Equal(t, schema.EventGap, g.Type, "the far side was not told its streams went stale")
		require.Equal(t, schema.EventUnknown, g.Control.GapType)
		require.Empty(t, g.Symbol)
		require.Equal(t, schema.GapRelay, g.Control.GapSource)
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}
