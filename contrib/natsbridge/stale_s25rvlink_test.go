package natsbridge

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS25rvLinkLossMarkerFollowsQueuedQuotes: the quotes the Consumer
// received before its connection dropped, still in its queue (or in
// nats.go's channel ahead of it) when the state arrives, must reach the
// far side before the gap marker that says the venue's streams are stale,
// or be replaced by it — never after it: a quote from before the loss
// delivered after the marker passes for the stream's next update, and the
// stream is served stale, silently. Each quote is of a stream of its own,
// so that each is seen once: delivered before the marker, or dropped by it
// (Stats.Coalesced).
func TestS25rvLinkLossMarkerFollowsQueuedQuotes(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := make(chan *schema.CanonicalEvent, 1<<10)
	sub, err := far.d.Subscribe(dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { got <- ev }})
	require.NoError(t, err)
	states := make(chan StateEvent, 64)
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events,
		&ConsumerOptions{OnState: func(e StateEvent) { states <- e }})
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}
	quote := func(sym string) *schema.CanonicalEvent {
		ev := tradeOf(sym, 1)
		ev.Type, ev.Trade = schema.EventBBO, schema.Trade{}
		ev.BBO.BidPrice = schema.MustParseDecimal("65000.1")
		return ev
	}
	raw.send(quote("BTC-USDT"), 1)
	require.Equal(t, schema.EventBBO, next(t, got, anyMarket).Type)

	delivered := func() (n int64) {
		for _, s := range cons.subs {
			if d, err := s.Delivered(); err == nil {
				n += d
			}
		}
		return n
	}
	cons.q.mu.Lock() // the pump stalls: what comes waits in nats.go's channel
	const n = 8
	for i := range n {
		raw.send(quote("S"+strconv.Itoa(i)), 1)
	}
	eventually(t, func() bool { return delivered() == 1+n }, "nats.go handed the quotes on")
	srv.Stop()
	awaitState(t, states, schema.ConnDisconnected)
	cons.q.mu.Unlock()

	before, after, gap := 0, 0, false
	deadline := time.After(generous)
	tick := time.NewTicker(5 * time.Millisecond) // to look at Stats again, as require.Eventually does
	defer tick.Stop()
	for before+after+int(sub.Stats().Coalesced) < n || !gap {
		select {
		case ev := <-got:
			switch {
			case ev.Type == schema.EventGap:
				gap = true
			case gap:
				after++
			default:
				before++
			}
		case <-deadline:
			t.Fatalf("timed out: %d quotes before the marker, %d after, %d dropped, marker %v", before, after, sub.Stats().Coalesced, gap)
		case <-tick.C:
		}
	}
	require.Zero(t, after, "quotes from before the loss delivered after the marker: they pass for fresh")
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}
