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

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
