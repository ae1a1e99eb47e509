package session_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
)

// TestS29UserDataAlreadyActive: Binance takes one user-data subscription
// an account a connection ("You can have only one active subscription for
// a given account on a given connection", WS-API "User Data Stream
// requests"), and refuses another with -2035 SUBSCRIPTION_ACTIVE ("User
// Data Stream subscription already active", spot "Error codes"). A
// subscription the venue took but whose answer was lost is signed again
// after its 10 s deadline; the venue's -2035 to that retry says the
// stream is on: orders go. Before, -2035 was a refusal that stood until
// the next reconnect: WaitConnected reported it, orders waited.
func TestS29UserDataAlreadyActive(t *testing.T) {
	v := startVenue(t)
	var subs, answered atomic.Int32
	url := wsAPI(t, func(_ int, id uint64, msg []byte) string {
		if !strings.Contains(string(msg), "userDataStream.subscribe") {
			return ""
		}
		if subs.Add(1) == 1 {
			return "" // taken, its answer lost
		}
		answered.Add(1)
		return errorBody(id, -2035, "User Data Stream subscription already active.")
	})
	ep := endpoints(v)
	ep.API = url
	clk := newManualClock()
	cfg := session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true}
	cfg.Client.Clock = clk
	s := start(t, cfg)
	require.Eventually(t, func() bool { return subs.Load() >= 1 }, generous, pollEvery, "the subscription sent")
	clk.fireUntil(t, 10*time.Second, func() bool { return subs.Load() >= 2 }, "signed again after the deadline and the backoff")
	require.Eventually(t, func() bool { return answered.Load() >= 1 }, generous, pollEvery)
	var err error
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		err = s.WaitConnected(ctx)
		return err == nil || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, session.ErrNoAnswer)
	}, generous, pollEvery, "the retry's answer taken")
	require.NoError(t, err, "-2035 to the retry: the first subscription is in effect")
	assert.Equal(t, int32(2), subs.Load(), "not signed a third time")
}

// TestS29UserDataMaxSubscriptionIDs: a connection that reached Binance's
// lifetime count of subscriptions is refused every new one with -2042
// MAXIMUM_SUBSCRIPTION_IDS ("Maximum subscription ID reached for this
// connection", spot "Error codes"; "you will receive an error and must
// re-establish a new connection", WS-API "User Data Stream requests"): the
// session replaces the connection at once and subscribes on the new one.
// Before, the refusal stood until the connection went by itself.
func TestS29UserDataMaxSubscriptionIDs(t *testing.T) {
	v := startVenue(t)
	var conns atomic.Int32
	url := wsAPI(t, func(conn int, id uint64, msg []byte) string {
		conns.Store(int32(max(int(conns.Load()), conn)))
		switch {
		case !strings.Contains(string(msg), "userDataStream.subscribe"):
			return ""
		case conn == 1:
			return errorBody(id, -2042, "Maximum subscription ID reached for this connection.")
		}
		return fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, id)
	})
	ep := endpoints(v)
	ep.API = url
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true})
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		return s.WaitConnected(ctx) == nil
	}, generous, pollEvery, "in on a new connection")
	assert.GreaterOrEqual(t, conns.Load(), int32(2))
}

// wsAPI serves Binance's WS-API on loopback and returns its URL: the
// session's ping answered, reconciliation's queries answered as none,
// every other request answered reply's answer ("": none); conn numbers
// the connections from 1.
func wsAPI(t *testing.T, reply func(conn int, id uint64, msg []byte) string) string {
	t.Helper()
	url, _ := wsAPIPush(t, reply)
	return url
}
