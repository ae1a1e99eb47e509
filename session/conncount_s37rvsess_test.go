package session_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS37rvsessConnCountErrorIsNoOrdersAnswer: OKX's
// channel-conn-count-error (the venue ended the orders channel's
// subscription, OKX v5 "WebSocket → Connection count limit") read while
// an order alone awaits its answer is not that order's refusal: it echoes
// no id, like {"event":"error"} does, but answers no request. The order
// gets the answer that follows, its acceptance; the channel is subscribed
// again and the private side ready again. Before, the notice read once the
// connection was ready (the case OKX's "the platform may unsubscribe
// existing connections" leaves; TestS37OKXChannelConnCountErrorResubscribes
// sends it while the handshake's answers are still awaited) left the
// resubscription's answer unawaited (live had cleared private.awaiting):
// ErrNoAnswer after each answerTimeout, the channel sent again and again,
// never ready (Refused 4 in 30 s).
func TestS37rvsessConnCountErrorIsNoOrdersAnswer(t *testing.T) {
	c := placeCases()[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, nil)
	var subs atomic.Int64
	f.alter = func(_ int, msg []byte, replies []string) []string {
		if strings.Contains(string(msg), `"subscribe"`) && strings.Contains(string(msg), `"channel":"orders"`) {
			subs.Add(1)
		}
		return replies
	}
	s := startOrders(t, c, f, nil)
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	f.setScript(func(o orderSeen) ([]string, bool) {
		return []string{s37ConnCountError, acceptOrder(f.venue, o)}, false
	})
	ack, err := place(t, s, ctx, "notice1")
	require.NoError(t, err, "the notice is no answer to the order")
	assert.NotEmpty(t, ack.VenueOrderID)
	require.Eventually(t, func() bool { return s.Stats().Order.Refused == 1 }, generous, pollEvery,
		"the ended subscription counted as refused (on the private side's worker)")
	assert.Eventually(t, func() bool {
		wctx, wcancel := context.WithTimeout(ctx, pollEvery)
		defer wcancel()
		return s.WaitConnected(wctx) == nil
	}, generous, pollEvery, "ready again once the orders channel is taken again")
	assert.Equal(t, int64(2), subs.Load(), "the orders channel subscribed again once")
	assert.Equal(t, uint64(1), s.Stats().Order.Refused)
}
