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

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// binanceNullRefusal is Binance's WS-API answer to a request it cannot read
// ("Response format": the answer's id is "INT / STRING / null").
const binanceNullRefusal = `{"id":null,"status":400,"error":{"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."}}`

// TestS29rvIdlessAfterGivenUpQuery: a refusal echoing no request id
// ({"id":null,…}) answers the request alone awaiting an answer on the
// connection, and requests whose caller gave up count among those that may
// still be answered (soleAnswer). A reconciliation query given up after
// its 10 s (DefaultRESTTimeout) may still be answered too: here the venue
// never answers the open-orders queries, then answers {"id":null,…} while
// one order is in flight. That refusal may be the query's: the order must
// not fail with its code (a wrong pairing tells the host the venue refused
// an order it may have taken). Before the fix the order got the query's
// -1102 at once, and no lookup by client order id followed.
func TestS29rvIdlessAfterGivenUpQuery(t *testing.T) {
	var queries atomic.Int32
	s, clk, seen := startRvAPI(t, func(_ *websocket.Conn, msg []byte) string {
		switch m := string(msg); {
		case strings.Contains(m, "userDataStream.subscribe"):
			return fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, requestID(t, msg))
		case strings.Contains(m, `"openOrders.status"`):
			queries.Add(1) // never answered in time
		case strings.Contains(m, `"order.place"`):
			return binanceNullRefusal
		}
		return ""
	})
	clk.fireUntil(t, session.DefaultRESTTimeout, func() bool { return s.Stats().Order.ReconcileErrors >= 5 },
		"every try of the open-orders query given up")
	// The client counts a try given up once its timer fires on the
	// injected clock, which may be before the venue's handler has read
	// the try's request off the socket: 4 seen here 2 runs in ~430
	// stressed ones.
	require.Eventually(t, func() bool { return queries.Load() >= 5 }, generous, pollEvery, "every try of the open-orders query sent")
	require.Equal(t, int32(5), queries.Load())
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(s, t, "rv-q1", "BUY", "100", "1")
	defer s.Pools().Orders.Put(req)
	done := placeAsync(ctx, s, req)
	require.Eventually(t, seen.Load, generous, pollEvery, "the id-less refusal read (and paired, if at all)")
	assertNoAnswer(t, clk, done, "the id-less refusal may be the given-up query's")
}

// TestS29rvIdlessAfterUnansweredUserData: the same for the user-data
// subscription. An order is in flight when the venue ends the stream
// (eventStreamTerminated); the subscription signed again goes unanswered
// its 10 s (answerTimeout) and is given up until the retry's backoff — but
// its answer may still come, and {"id":null,…} may be it. Before the fix
// the given-up subscription counted for nothing, and that refusal failed
// the order with its code.
func TestS29rvIdlessAfterUnansweredUserData(t *testing.T) {
	var subs atomic.Int32
	var live atomic.Pointer[websocket.Conn]
	s, clk, seen := startRvAPI(t, func(c *websocket.Conn, msg []byte) string {
		live.Store(c)
		switch m := string(msg); {
		case queryAnswer(msg) != "":
			return fmt.Sprintf(`{"id":%d,%s}`, requestID(t, msg), queryAnswer(msg))
		case strings.Contains(m, "userDataStream.subscribe"):
			if subs.Add(1) == 1 {
				return fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, requestID(t, msg))
			}
		case strings.Contains(m, `"order.place"`):
			return `{"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1728973001334}}`
		}
		return ""
	})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(s, t, "rv-u1", "BUY", "100", "1")
	defer s.Pools().Orders.Put(req)
	done := placeAsync(ctx, s, req)
	require.Eventually(t, func() bool { return subs.Load() >= 2 }, generous, pollEvery, "signed again after the stream ended")
	clk.fireUntil(t, 10*time.Second, func() bool { return s.Stats().Order.Refused >= 1 }, "the new subscription given up")
	require.NoError(t, live.Load().Write(ctx, websocket.MessageText, []byte(binanceNullRefusal)))
	require.Eventually(t, seen.Load, generous, pollEvery, "the id-less refusal read (and paired, if at all)")
	assertNoAnswer(t, clk, done, "the id-less refusal may be the given-up subscription's")
}

// startRvAPI serves Binance's WS-API on loopback (the session's ping
// answered, every other request answered reply's answer, "": none) and
// starts a session on it with a manual clock, connected; seen is set once
// a -1102 refusal was published (after the session paired it with a
// request, if it did).
func startRvAPI(t *testing.T, reply func(c *websocket.Conn, msg []byte) string) (*session.Session, *manualClock, *atomic.Bool) {
	t.Helper()
	return startRvAPIAcks(t, reply, nil)
}

// startRvAPIAcks is startRvAPI with onAck given every answer the session
// publishes (schema.EventOrderAck, and EventControl: a venue's refusals),
// when not nil.
func startRvAPIAcks(t *testing.T, reply func(c *websocket.Conn, msg []byte) string, onAck func(*schema.CanonicalEvent)) (*session.Session, *manualClock, *atomic.Bool) {
	t.Helper()
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
			body := reply(c, msg)
			if strings.Contains(string(msg), `"method":"ping"`) {
				body = `{"id":"` + pingID(msg) + `","status":200,"result":{}}`
			}
			if body != "" && c.Write(r.Context(), websocket.MessageText, []byte(body)) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	ep := endpoints(startVenue(t))
	ep.API = "ws" + strings.TrimPrefix(srv.URL, "http")
	clk := newManualClock()
	cfg := session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true}
	cfg.Client.Clock = clk
	var seen atomic.Bool
	cfg.Subscribe = func(d *dispatch.Dispatcher) error {
		_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventControl}}, &dispatch.SubscribeOptions{
			Handler: func(ev *schema.CanonicalEvent) {
				if ev.Control.Kind == schema.ControlVenueError && ev.Control.Code == -1102 {
					seen.Store(true)
				}
			}})
		if err != nil || onAck == nil {
			return err
		}
		_, err = d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventOrderAck, schema.EventControl}}, &dispatch.SubscribeOptions{Handler: onAck})
		return err
	}
	s := start(t, cfg)
	waitConnected(t, s)
	return s, clk, &seen
}

// assertNoAnswer fires Config.OrderAnswerTimeout until the place ends: it
// must end unanswered (ErrNoAnswer), not with the id-less refusal's code.
func assertNoAnswer(t *testing.T, clk *manualClock, done <-chan error, msg string) {
	t.Helper()
	var err error
	require.Eventually(t, func() bool {
		clk.fireAfter(session.DefaultOrderAnswerTimeout)
		select {
		case err = <-done:
			return true
		default:
			return false
		}
	}, generous, pollEvery)
	var verr *session.VenueError
	assert.False(t, errors.As(err, &verr), "%s: %v", msg, err)
	assert.ErrorIs(t, err, session.ErrNoAnswer, "unanswered: outcome unknown")
}
