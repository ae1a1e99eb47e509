package session_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s39sess2IdlessError is OKX's refusal echoing no request id (OKX v5
// "WebSocket → Subscribe", failure example: {"event":"error","code":
// "60012","msg":"Invalid request: …","connId":"…"}, no "id" though the
// request sent one): it may answer any request of the connection.
const s39sess2IdlessError = `{"event":"error","code":"60012","msg":"Invalid request: {\"op\": \"subscribe\"}","connId":"a4d3ae55"}`

// TestS39sess2IdlessErrorBesideAPendingOrderIsNoSubscriptionRefusal: an
// OKX order awaits its answer on the private connection when the venue
// ends the connection's orders channel (channel-conn-count-error); the
// channel alone is subscribed again there after the backoff, the order
// still unanswered. An error echoing no id then may be the order's as well
// as the subscription's: it answers neither (soleAnswer: with several
// requests awaiting, none). The subscription's own acknowledgement (its id
// echoed) follows and the connection is ready with one refusal counted and
// two subscriptions of the channel; the order's acceptance reaches it.
// Before s39sess2 the subscription took the error as its refusal: a second
// refusal, the acknowledgement ignored, the channel sent a third time.
func TestS39sess2IdlessErrorBesideAPendingOrderIsNoSubscriptionRefusal(t *testing.T) {
	c := placeCases()[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, nil)
	var mu sync.Mutex
	var held []orderSeen
	subs := 0
	f.alter = func(_ int, msg []byte, replies []string) []string {
		if !strings.Contains(string(msg), `"subscribe"`) || !strings.Contains(string(msg), `"channel":"orders"`) {
			return replies
		}
		mu.Lock()
		defer mu.Unlock()
		subs++
		if subs != 2 {
			return replies
		}
		out := append([]string{s39sess2IdlessError}, replies...)
		for _, o := range held { // the order's answer, last
			out = append(out, acceptOrder(f.venue, o))
		}
		return out
	}
	s := startOrders(t, c, f, nil)
	waitConnected(t, s)
	f.setScript(func(o orderSeen) ([]string, bool) {
		mu.Lock()
		held = append(held, o)
		mu.Unlock()
		return []string{s37ConnCountError}, false // the order unanswered for now
	})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	ack, err := place(t, s, ctx, "idless1")
	require.NoError(t, err, "the order is answered after the resubscription")
	assert.NotEmpty(t, ack.VenueOrderID)
	require.Eventually(t, func() bool {
		wctx, wcancel := context.WithTimeout(ctx, pollEvery)
		defer wcancel()
		return s.WaitConnected(wctx) == nil
	}, generous, pollEvery, "ready again")
	mu.Lock()
	n := subs
	mu.Unlock()
	assert.Equal(t, 2, n, "the orders channel subscribed again once: the id-less error was not its refusal")
	assert.Equal(t, uint64(1), s.Stats().Order.Refused, "the ended subscription alone counted as refused")
}
