package natsbridge

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS34natsRefusedQuotesOneMarkerPerKind: while the ingest node's link
// is down NATS refuses quotes, and once it is back the Publisher tells the
// far side. A lost link already makes it tell every quote type of every
// venue it sent (one marker naming the type and no symbol, which reaches
// every symbol's subscribers and drops their quotes queued, every view
// included); beside it, it sent one marker per refused stream too — a
// burst of up to MaxStreams (65,536) markers at the moment of
// reconnection, each saying what the one per type already said. One
// announcement per type lost: the subscriber of one symbol still hears
// its stream's news, before the stream's next event.
func TestS34natsRefusedQuotesOneMarkerPerKind(t *testing.T) {
	ll := newLinkLoss(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	one := ll.far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}, Symbols: []string{"S063"}})
	quote := func(i int) func(*schema.CanonicalEvent) {
		return func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, fmt.Sprintf("S%03d", i), schema.EventBBO
			ev.BBO.BidPrice, ev.Raw = schema.NewDecimal(int64(i+1), 1), make([]byte, 512)
		}
	}
	ll.publish(t, quote(0))
	require.Equal(t, schema.EventBBO, next(t, ll.got, anyMarket).Type)
	ll.lose(t, 64, quote) // 32 KiB of quotes, 64 streams
	refused := ll.pub.Stats().Dropped
	require.Greater(t, refused, uint64(1), "NATS refused quotes of several streams")
	// The markers went out before the Publisher reported the link up: a
	// trade published now comes after every one of them.
	ll.publish(t, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "S063", schema.EventTrade
	})
	var markers []*schema.CanonicalEvent
	for ev := next(t, ll.got, anyMarket); ev.Type != schema.EventTrade; ev = next(t, ll.got, anyMarket) {
		if ev.Type == schema.EventGap {
			markers = append(markers, ev)
		}
	}
	require.Len(t, markers, 1, "one marker per quote type lost, not one per refused stream beside it (%d refused)", refused)
	require.Equal(t, schema.EventBBO, markers[0].Control.GapType)
	require.Empty(t, markers[0].Symbol, "about every symbol of the type")
	g := next(t, one, anyMarket)
	require.Equal(t, schema.EventGap, g.Type, "the subscriber of one refused stream was not told before its next event: %+v", g)
	require.Equal(t, schema.EventBBO, g.Control.GapType)
	ll.close(t)
}
