package natsbridge

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS35natsHostQuoteKindToldPastStrayKinds: once its link is back, the
// Publisher tells every quote type of every venue it sent that a quote of
// it may have been lost in the dying link, up to maxQuoteKinds (1,280)
// kinds. It kept the first 1,280 sent: a producer's 1,280 stray kinds
// (test venues, a typo) left every kind after them — the host's real
// venue's tickers — untold for the Publisher's life, the far side's
// subscribers keeping a quote the dying link swallowed the successor of,
// stale, with no sign and nothing counted. The kinds told are those sent
// most recently — touched by every quote, so a kind sent first and ever
// since is kept too — and one forgotten is counted
// (PublisherStats.QuoteKindsForgotten).
func TestS35natsHostQuoteKindToldPastStrayKinds(t *testing.T) {
	for _, tc := range []struct {
		name        string
		hostFirst   bool
		wantForgets uint64
	}{
		{"host's kind after the strays", false, 1},
		{"host's kind before and after the strays", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t)
			ingest, far := newNode(t), newNode(t)
			quotes := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}, Types: []schema.EventType{schema.EventTicker}})
			u := srv.ClientURL()
			d := &holeDialer{addr: u[len("nats://"):]}
			states := make(chan StateEvent, 64)
			pub, err := NewPublisher(waitCtx(t), connect(t, u, &ConnectOptions{Extra: []nats.Option{nats.SetCustomDialer(d)}}), ingest.d,
				&PublisherOptions{OnState: func(e StateEvent) { states <- e }})
			require.NoError(t, err)
			cons, err := NewConsumer(waitCtx(t), connect(t, u, nil), far.d, far.pools.Events, nil)
			require.NoError(t, err)
			quote := func(last int64) func(*schema.CanonicalEvent) {
				return func(ev *schema.CanonicalEvent) {
					ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventTicker
					ev.UseTicker().Last = schema.NewDecimal(last, 0)
				}
			}
			sent := uint64(0)
			if tc.hostFirst {
				ingest.publish(t, quote(99))
				require.Equal(t, "99", next(t, quotes, anyEvent).Ticker.Last.String())
				sent++
			}
			for i := range maxQuoteKinds {
				ingest.publish(t, func(ev *schema.CanonicalEvent) {
					ev.Venue, ev.Symbol, ev.Type = schema.Venue(fmt.Sprintf("stray%04d", i)), "X", schema.EventBBO
				})
				sent++
				if i%256 == 0 { // the Publisher's lane keeps up: every kind reaches it
					eventually(t, func() bool { return pub.Stats().Published == sent }, "bridged")
				}
			}
			eventually(t, func() bool { return pub.Stats().Published == sent }, "bridged")
			ingest.publish(t, quote(100))
			require.Equal(t, "100", next(t, quotes, anyEvent).Ticker.Last.String())
			require.Equal(t, tc.wantForgets, pub.Stats().QuoteKindsForgotten, "the least recently sent kinds forgotten, counted")

			d.hole.Store(true)
			ingest.publish(t, quote(101)) // taken by the dying link, never delivered
			eventually(t, func() bool { return d.swallowed.Load() > 0 }, "the quote never written")
			d.kill()
			awaitState(t, states, schema.ConnDisconnected)
			awaitState(t, states, schema.ConnConnected) // the markers went before OnState
			ingest.publish(t, quote(102))

			g := next(t, quotes, anyEvent)
			require.Equal(t, schema.EventGap, g.Type, "the host's ticker subscriber heard nothing of the lost quote: %+v", g)
			require.Equal(t, schema.EventTicker, g.Control.GapType)
			require.Equal(t, "102", next(t, quotes, anyEvent).Ticker.Last.String())

			require.NoError(t, pub.Close(closeCtx(t)))
			require.NoError(t, cons.Close(closeCtx(t)))
			ingest.close(t)
			far.close(t)
		})
	}
}

// TestS35natsQuoteKindNotedWithoutAllocation: the Publisher notes a quote's
// kind at every quote now (on the dispatcher's delivery goroutine, the
// ingest path): a kind known, or one that makes another forgotten, costs
// no allocation.
func TestS35natsQuoteKindNotedWithoutAllocation(t *testing.T) {
	p := &Publisher{log: slog.New(slog.DiscardHandler)}
	kinds := make([]schema.Venue, 2*maxQuoteKinds)
	for i := range kinds {
		kinds[i] = schema.Venue(fmt.Sprintf("v%05d", i))
	}
	for _, v := range kinds {
		p.noteQuoteKind(v, schema.EventBBO)
	}
	i := 0
	allocs := testing.AllocsPerRun(4*len(kinds), func() {
		p.noteQuoteKind(kinds[i%len(kinds)], schema.EventBBO) // each forgets another
		p.noteQuoteKind(kinds[i%len(kinds)], schema.EventBBO) // the same again
		i++
	})
	require.Zero(t, allocs, "allocations per quote noted")
	require.Equal(t, maxQuoteKinds, p.quoteKinds.len())
}
