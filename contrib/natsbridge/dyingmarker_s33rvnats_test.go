package natsbridge

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS33rvnatsDyingLinkMarkerReachesEveryQuoteSubscriber: the marker a
// Publisher sends, once its link is back, about the quotes its dying link
// swallowed must reach a Consumer whose Subjects select by type
// ("meltica.*.*.ticker") or by symbol ("meltica.binance.BTC-USDT.ticker",
// whose venue-wide companion is "meltica.binance._.ticker"), not only one
// that takes every subject: sent on "meltica.binance._.gap", no such
// Consumer received it, and its subscribers kept the lost quote's
// predecessor, stale, with no sign. And it is about the venue's quotes,
// not its ordered streams (which tell their own losses by their
// sequences): a subscriber of trades is not told its streams broke (one
// that resyncs its books on a marker resynced every book of the venue at
// every reconnection of the ingest node).
func TestS33rvnatsDyingLinkMarkerReachesEveryQuoteSubscriber(t *testing.T) {
	for _, tc := range []struct {
		name     string
		subjects []string
	}{
		{"by type", []string{"meltica.*.*.ticker", "meltica.*.*.trade"}},
		{"by symbol", []string{"meltica.binance.BTC-USDT.ticker", "meltica.binance.BTC-USDT.trade"}},
		{"everything", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t)
			ingest := newNode(t)
			far := newNode(t)
			quotes := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}, Types: []schema.EventType{schema.EventTicker}})
			trades := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}, Types: []schema.EventType{schema.EventTrade}})
			u := srv.ClientURL()
			d := &holeDialer{addr: u[len("nats://"):]}
			states := make(chan StateEvent, 64)
			pub, err := NewPublisher(waitCtx(t), connect(t, u, &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(d)}}), ingest.d,
				&PublisherOptions{OnState: func(e StateEvent) { states <- e }})
			require.NoError(t, err)
			cons, err := NewConsumer(waitCtx(t), connect(t, u, nil), far.d, far.pools.Events, &ConsumerOptions{Subjects: tc.subjects})
			require.NoError(t, err)
			quote := func(last int64) func(*schema.CanonicalEvent) {
				return func(ev *schema.CanonicalEvent) {
					ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventTicker
					ev.UseTicker().Last = schema.NewDecimal(last, 0)
				}
			}
			trade := func(id string) func(*schema.CanonicalEvent) {
				return func(ev *schema.CanonicalEvent) {
					ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventTrade
					ev.Trade.ID = schema.MustID(id)
				}
			}
			ingest.publish(t, quote(100))
			ingest.publish(t, trade("1"))
			require.Equal(t, "100", next(t, quotes, anyEvent).Ticker.Last.String())
			require.Equal(t, "1", next(t, trades, anyEvent).Trade.ID.String())
			d.hole.Store(true)
			ingest.publish(t, quote(101)) // taken by the dying link, never delivered
			eventually(t, func() bool { return d.swallowed.Load() > 0 }, "the quote never written")
			d.kill()
			awaitState(t, states, schema.ConnDisconnected)
			awaitState(t, states, schema.ConnConnected) // the marker went before OnState
			ingest.publish(t, quote(102))
			ingest.publish(t, trade("2"))

			g := next(t, quotes, anyEvent)
			require.Equal(t, schema.EventGap, g.Type, "the quote subscriber heard nothing of the lost quote: %+v", g)
			require.Equal(t, schema.VenueBinance, g.Venue)
			require.Equal(t, "102", next(t, quotes, anyEvent).Ticker.Last.String())
			tr := next(t, trades, anyEvent)
			require.Equal(t, schema.EventTrade, tr.Type, "the trade subscriber was told its streams broke: %+v", tr)
			require.Equal(t, "2", tr.Trade.ID.String())

			require.NoError(t, pub.Close(closeCtx(t)))
			require.NoError(t, cons.Close(closeCtx(t)))
			ingest.close(t)
			far.close(t)
		})
	}
}
