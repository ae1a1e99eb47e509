package natsbridge

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS29SubscriberQueueMarkerActsPerStream: a held Publisher's
// subscription drops quotes past its bound and gets a gap marker naming
// the stream (dispatch, s29: it named the venue and type only). The
// Publisher sends it on the stream's subject, the Consumer publishes it
// into the far dispatcher, and there only that stream's queued quote goes:
// another symbol's of the same venue and type is still delivered, the
// named one's next quote after the marker.
func TestS29SubscriberQueueMarkerActsPerStream(t *testing.T) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	gate, held := make(chan struct{}), make(chan struct{}, 1)
	got := make(chan *schema.CanonicalEvent, 64)
	sub, err := far.d.Subscribe(dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		if ev.Type == schema.EventTrade {
			held <- struct{}{}
			<-gate
		}
		got <- ev
	}})
	require.NoError(t, err)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, nil)
	require.NoError(t, err)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	ingest.publish(t, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "HOLD", schema.EventTrade
	})
	<-held // the far subscriber is held: quotes queue there
	quote := func(sym string, id uint64) {
		ingest.publish(t, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, sym, schema.EventBBO, id
		})
	}
	quote("A", 1)
	quote("B", 2)
	eventually(t, func() bool { return sub.Stats().Coalescing == 2 }, "both quotes queued far side")
	// The marker the Publisher's subscription gets for a dropped quote of A.
	ingest.publish(t, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "A", schema.EventGap
		*ev.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: schema.EventBBO, GapCount: 3, GapSource: schema.GapSubscriberQueue}
	})
	eventually(t, func() bool { return sub.Stats().Coalescing == 1 }, "A's queued quote dropped by the marker about A, B's kept")
	quote("A", 3)
	eventually(t, func() bool { return sub.Stats().Coalescing == 2 }, "A's next quote queued")
	close(gate)
	var seen []string
	for len(seen) < 4 {
		ev := <-got
		switch ev.Type {
		case schema.EventGap:
			require.Equal(t, "A", ev.Symbol)
			require.Equal(t, schema.EventBBO, ev.Control.GapType)
			seen = append(seen, "gap A")
		case schema.EventBBO:
			seen = append(seen, ev.Symbol+"@"+string(rune('0'+ev.SeqProvider)))
		default:
			seen = append(seen, ev.Type.String())
		}
	}
	require.Equal(t, "trade", seen[0])
	require.Equal(t, "gap A", seen[1], "the marker overtakes the queued quotes")
	require.ElementsMatch(t, []string{"A@3", "B@2"}, seen[2:], "B's quote delivered, A's latest after the marker")
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}

// TestS29MarkerDropsTheQuoteWaitingForThePool: a quote that found no event
// (the host's pool exhausted) waits as its stream's latest, delivered once
// one is free; a gap marker about the stream that comes after it (a relay's
// after its link came back, a held Publisher's queue drop) is critical and
// goes first. The waiting quote, from before the loss the marker
// announces, was delivered after it: the far subscriber took it for the
// stream's state after the loss, silently stale. It goes with the marker
// (as dispatch drops a queued quote a marker overtakes); another stream's
// waiting quote is still delivered.
func TestS29MarkerDropsTheQuoteWaitingForThePool(t *testing.T) {
	far, got, cons, raw := starvedConsumer(t, schema.EventBBO)
	quote := func(sym string, id uint64) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: sym, Type: schema.EventBBO, SeqProvider: id}
	}
	raw.send(quote("A", 1), 0)
	raw.send(quote("B", 2), 0)
	eventually(t, func() bool { return cons.Stats().PoolDropped == 2 }, "both quotes waiting for an event")
	marker := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "A", Type: schema.EventGap,
		Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBBO, GapSource: schema.GapRelay}}
	raw.send(marker, 1)
	eventually(t, func() bool { return len(got) > 0 || cons.Stats().PoolDropped == 3 }, "the marker delivered or held")
	far.release()
	var seen []string
	for !slices.Contains(seen, "B@2") {
		ev := next(t, got, anyEvent)
		if ev.Type == schema.EventGap {
			seen = append(seen, "gap "+ev.Symbol)
			continue
		}
		seen = append(seen, ev.Symbol+"@"+strconv.FormatUint(ev.SeqProvider, 10))
	}
	// Whatever else comes: nothing of A after its marker.
	require.NoError(t, cons.Close(closeCtx(t)))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
	for len(got) > 0 {
		ev := <-got
		seen = append(seen, ev.Symbol+"@"+strconv.FormatUint(ev.SeqProvider, 10))
	}
	i := slices.Index(seen, "gap A")
	require.GreaterOrEqual(t, i, 0, "the marker about A not delivered: %v", seen)
	require.NotContains(t, seen[i:], "A@1", "A's quote from before the marker delivered after it: %v", seen)
}
