package session_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s37ConnCountError is OKX's notice that a private channel's subscription
// of the connection was terminated: the account has the channel on 30
// connections already (OKX v5 "WebSocket → Connection count limit": "the
// latest connection that sends the subscription request will be rejected.
// Client will receive the usual subscription acknowledgement, followed by
// the channel-conn-count-error from the connection that the subscription
// has been terminated. In exceptional circumstances the platform may
// unsubscribe existing connections"). It echoes no request id.
const s37ConnCountError = `{"event":"channel-conn-count-error","channel":"orders","connCount":"30","connId":"a4d3ae55"}`

// TestS37OKXChannelConnCountErrorResubscribes: the venue acknowledges the
// orders subscription, then terminates it (channel-conn-count-error). The
// connection then delivers no execution report: the session must not stay
// ready on it as if subscribed. The private side is not ready (a
// *LoginError, Step "subscribe", Channel "orders", naming the venue's
// event) and the orders channel alone is subscribed again on the same
// connection after the backoff — the count falls when one of the account's
// other connections goes (a make-before-break rotation's replaced one, in
// its grace) —, then ready again. Before s37sess the notice was read as an
// answer echoing no id: ignored while the connection was ready (or, with
// one order in flight, taken as that order's refusal), the orders channel
// lost for the life of the connection.
func TestS37OKXChannelConnCountErrorResubscribes(t *testing.T) {
	c := privateCases(t)[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	var mu sync.Mutex
	ordersSubs, told := 0, false
	f.alter = func(conn int, msg []byte, replies []string) []string {
		m := string(msg)
		if !strings.Contains(m, `"subscribe"`) || !strings.Contains(m, `"channel":"orders"`) {
			return replies
		}
		mu.Lock()
		defer mu.Unlock()
		ordersSubs++
		if !told { // the first private connection's (the fake numbers the market one too)
			told = true
			return append(replies, s37ConnCountError)
		}
		return replies
	}
	subs := func() int {
		mu.Lock()
		defer mu.Unlock()
		return ordersSubs
	}
	cfg := c.config(f, time.Now)
	s := start(t, cfg)

	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.Eventually(t, func() bool { return subs() >= 2 }, generous, pollEvery,
		"the orders channel subscribed again on the connection")
	require.Eventually(t, func() bool {
		wctx, wcancel := context.WithTimeout(ctx, pollEvery)
		defer wcancel()
		return s.WaitConnected(wctx) == nil
	}, generous, pollEvery, "ready again once the venue took it")
	assert.Len(t, f.loginsSeen(), 1, "on the same private connection: no second login")
	assert.Equal(t, uint64(1), s.Stats().Order.Refused, "the terminated subscription counted as refused")
}
