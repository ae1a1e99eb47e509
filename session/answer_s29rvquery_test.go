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
	v := startVenue(t)
	var queries atomic.Int32
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
			var body string
			switch m := string(msg); {
			case strings.Contains(m, `"method":"ping"`):
				body = `{"id":"` + pingID(msg) + `","status":200,"result":{}}`
			case strings.Contains(m, "userDataStream.subscribe"):
				body = fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, requestID(t, msg))
			case strings.Contains(m, `"openOrders.status"`):
				queries.Add(1) // never answered in time
			case strings.Contains(m, `"order.place"`):
				body = `{"id":null,"status":400,"error":{"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."}}`
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
	seen := venueErrorSeen(&cfg, -1102)
	s := start(t, cfg)
	waitConnected(t, s)
	clk.fireUntil(t, session.DefaultRESTTimeout, func() bool { return s.Stats().Order.ReconcileErrors >= 5 },
		"every try of the open-orders query given up")
	require.Equal(t, int32(5), queries.Load())

	type result struct {
		ack session.Ack
		err error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), generous)
		defer cancel()
		req := limitOrder(s, t, "rv-q1", "BUY", "100", "1")
		ack, err := s.Place(ctx, req)
		s.Pools().Orders.Put(req)
		done <- result{ack, err}
	}()
	require.Eventually(t, seen.Load, generous, pollEvery, "the id-less refusal read (and paired, if at all)")
	var res result
	require.Eventually(t, func() bool {
		clk.fireAfter(session.DefaultOrderAnswerTimeout)
		select {
		case res = <-done:
			return true
		default:
			return false
		}
	}, generous, pollEvery)
	var verr *session.VenueError
	assert.False(t, errors.As(res.err, &verr), "the id-less refusal may be the given-up query's: %v", res.err)
	assert.ErrorIs(t, res.err, session.ErrNoAnswer, "unanswered: outcome unknown")
}

// TestS29rvIdlessAfterUnansweredUserData: the same for the user-data
// subscription. An order is in flight when the venue ends the stream
// (eventStreamTerminated); the subscription signed again goes unanswered
// its 10 s (answerTimeout) and is given up until the retry's backoff — but
// its answer may still come, and {"id":null,…} may be it. Before the fix
// the given-up subscription counted for nothing, and that refusal failed
// the order with its code.
func TestS29rvIdlessAfterUnansweredUserData(t *testing.T) {
	v := startVenue(t)
	var subs atomic.Int32
	var live atomic.Pointer[websocket.Conn]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		live.Store(c)
		for {
			_, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			var body string
			switch m := string(msg); {
			case strings.Contains(m, `"method":"ping"`):
				body = `{"id":"` + pingID(msg) + `","status":200,"result":{}}`
			case queryAnswer(msg) != "":
				body = fmt.Sprintf(`{"id":%d,%s}`, requestID(t, msg), queryAnswer(msg))
			case strings.Contains(m, "userDataStream.subscribe"):
				if subs.Add(1) == 1 {
					body = fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, requestID(t, msg))
				}
			case strings.Contains(m, `"order.place"`):
				body = `{"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1728973001334}}`
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
	seen := venueErrorSeen(&cfg, -1102)
	s := start(t, cfg)
	waitConnected(t, s)

	type result struct {
		ack session.Ack
		err error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), generous)
		defer cancel()
		req := limitOrder(s, t, "rv-u1", "BUY", "100", "1")
		ack, err := s.Place(ctx, req)
		s.Pools().Orders.Put(req)
		done <- result{ack, err}
	}()
	require.Eventually(t, func() bool { return subs.Load() >= 2 }, generous, pollEvery, "signed again after the stream ended")
	clk.fireUntil(t, 10*time.Second, func() bool { return s.Stats().Order.Refused >= 1 }, "the new subscription given up")
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, live.Load().Write(ctx, websocket.MessageText,
		[]byte(`{"id":null,"status":400,"error":{"code":-1102,"msg":"Mandatory parameter 'signature' was not sent, was empty/null, or malformed."}}`)))
	require.Eventually(t, seen.Load, generous, pollEvery, "the id-less refusal read (and paired, if at all)")
	var res result
	require.Eventually(t, func() bool {
		clk.fireAfter(session.DefaultOrderAnswerTimeout)
		select {
		case res = <-done:
			return true
		default:
			return false
		}
	}, generous, pollEvery)
	var verr *session.VenueError
	assert.False(t, errors.As(res.err, &verr), "the id-less refusal may be the given-up subscription's: %v", res.err)
	assert.ErrorIs(t, res.err, session.ErrNoAnswer, "unanswered: outcome unknown")
}

// venueErrorSeen subscribes to the dispatcher through cfg: the flag is set
// once a refusal of code has been published, after the session paired it
// with a request, if it did.
func venueErrorSeen(cfg *session.Config, code int64) *atomic.Bool {
	var seen atomic.Bool
	cfg.Subscribe = func(d *dispatch.Dispatcher) error {
		_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventControl}}, &dispatch.SubscribeOptions{
			Handler: func(ev *schema.CanonicalEvent) {
				if ev.Control.Kind == schema.ControlVenueError && ev.Control.Code == code {
					seen.Store(true)
				}
			}})
		return err
	}
	return &seen
}
