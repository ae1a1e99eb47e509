package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
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
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		for {
			_, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if strings.Contains(string(msg), `"method":"ping"`) {
				if c.Write(r.Context(), websocket.MessageText, []byte(`{"id":"`+pingID(msg)+`","status":200,"result":{}}`)) != nil {
					return
				}
				continue
			}
			var body string
			switch id := requestID(t, msg); {
			case strings.Contains(string(msg), "userDataStream.subscribe"):
				if subs.Add(1) == 1 {
					continue // taken, its answer lost
				}
				body = errorBody(id, -2035, "User Data Stream subscription already active.")
				answered.Add(1)
			default:
				if a := queryAnswer(msg); a != "" {
					body = fmt.Sprintf(`{"id":%d,%s}`, id, a)
				}
			}
			if body != "" && c.Write(r.Context(), websocket.MessageText, []byte(body)) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	ep := endpoints(v)
	ep.API = "ws" + strings.TrimPrefix(srv.URL, "http")
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
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		first := conns.Add(1) == 1
		for {
			_, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if strings.Contains(string(msg), `"method":"ping"`) {
				if c.Write(r.Context(), websocket.MessageText, []byte(`{"id":"`+pingID(msg)+`","status":200,"result":{}}`)) != nil {
					return
				}
				continue
			}
			var body string
			switch id := requestID(t, msg); {
			case strings.Contains(string(msg), "userDataStream.subscribe") && first:
				body = errorBody(id, -2042, "Maximum subscription ID reached for this connection.")
			case strings.Contains(string(msg), "userDataStream.subscribe"):
				body = fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, id)
			default:
				if a := queryAnswer(msg); a != "" {
					body = fmt.Sprintf(`{"id":%d,%s}`, id, a)
				}
			}
			if body != "" && c.Write(r.Context(), websocket.MessageText, []byte(body)) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	ep := endpoints(v)
	ep.API = "ws" + strings.TrimPrefix(srv.URL, "http")
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true})
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		return s.WaitConnected(ctx) == nil
	}, generous, pollEvery, "in on a new connection")
	assert.GreaterOrEqual(t, conns.Load(), int32(2))
}
