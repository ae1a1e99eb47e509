package natsbridge

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// sendRun publishes a wire message of run run, as a Publisher of that run
// would.
func (s rawSender) sendRun(ev *schema.CanonicalEvent, seq uint64, run uint32) {
	s.tb.Helper()
	s.sendBytes(ev, wire.AppendRun(nil, ev, seq, run))
}

// TestS25NewRunIsAnnounced: a stream whose publisher started it over (a
// restart of the ingest node, or a Publisher that forgot the stream,
// MaxStreams) numbers from 1 again in a new run, which the message names
// (layout 7). The new run's messages before the first that arrived are
// lost, and the consumer says how many, even when the new run numbers
// past the old run's last (layout 6 took that for a continuation, or for a
// loss of the difference: under-counted). Within one run a jump is a loss
// as before; a new run whose first message arrives is no loss.
func TestS25NewRunIsAnnounced(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, nil)
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}
	for seq := uint64(1); seq <= 2; seq++ {
		raw.sendRun(tradeOf("BTC-USDT", 100+seq), seq, 7)
		require.Equal(t, 100+seq, next(t, got, anyMarket).SeqProvider)
	}
	// Run 8's 1 and 2 are lost; its 3 follows run 7's 2 by number.
	raw.sendRun(tradeOf("BTC-USDT", 203), 3, 8)
	g := next(t, got, anyMarket)
	require.Equal(t, schema.EventGap, g.Type, "a new run's lost first messages passed for a continuation")
	require.Equal(t, uint64(2), g.Control.GapCount)
	require.Equal(t, schema.EventTrade, g.Control.GapType)
	require.Equal(t, uint64(203), next(t, got, anyMarket).SeqProvider)
	// Run 9's 1 to 4 are lost; its 5 is past run 8's 3 by 2.
	raw.sendRun(tradeOf("BTC-USDT", 305), 5, 9)
	g = next(t, got, anyMarket)
	require.Equal(t, schema.EventGap, g.Type)
	require.Equal(t, uint64(4), g.Control.GapCount, "the restart's loss under-counted")
	require.Equal(t, uint64(305), next(t, got, anyMarket).SeqProvider)
	// Within run 9, a jump counts as before.
	raw.sendRun(tradeOf("BTC-USDT", 308), 8, 9)
	g = next(t, got, anyMarket)
	require.Equal(t, schema.EventGap, g.Type)
	require.Equal(t, uint64(2), g.Control.GapCount)
	require.Equal(t, uint64(308), next(t, got, anyMarket).SeqProvider)
	// Run 10 starts at 1: no loss.
	raw.sendRun(tradeOf("BTC-USDT", 401), 1, 10)
	require.Equal(t, uint64(401), next(t, got, anyMarket).SeqProvider)
	require.Equal(t, uint64(3), cons.Stats().Gaps)
	require.Equal(t, uint64(8), cons.Stats().Lost)
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}

// TestS25PublisherWritesPreviousLayout: during a rolling upgrade a
// Publisher keeps writing layout 6, which consumers not yet upgraded read
// (they refuse 7); an upgraded Consumer reads it too. Another version is
// refused at NewPublisher.
func TestS25PublisherWritesPreviousLayout(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv.ClientURL(), nil)
	raw, err := nc.SubscribeSync("meltica.binance.BTC-USDT.trade")
	require.NoError(t, err)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, nil)
	require.NoError(t, err)
	ingest := newNode(t)
	_, err = NewPublisher(waitCtx(t), nc, ingest.d, &PublisherOptions{WireVersion: 5})
	require.Error(t, err)
	pub, err := NewPublisher(waitCtx(t), nc, ingest.d, &PublisherOptions{WireVersion: 6})
	require.NoError(t, err)
	ingest.publish(t, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", schema.EventTrade, 42
	})
	m, err := raw.NextMsg(generous)
	require.NoError(t, err)
	require.Equal(t, byte(6), m.Data[0])
	require.Equal(t, uint64(42), next(t, got, anyMarket).SeqProvider)
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}
