package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// s39sessAPI serves Binance's WS-API on loopback: pings answered, every
// other request given to reply with the connection's number (from 1) and
// its id ("": no answer); push writes body on connection conn (dropConn:
// drops the connection).
func s39sessAPI(t *testing.T, reply func(conn int, id uint64, msg []byte) string) (url string, push func(conn int, body string) error) {
	t.Helper()
	var mu sync.Mutex
	type wconn struct {
		c   *websocket.Conn
		ctx context.Context
	}
	var conns []wconn
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		mu.Lock()
		conns = append(conns, wconn{c, r.Context()})
		conn := len(conns)
		mu.Unlock()
		for {
			_, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			var body string
			if strings.Contains(string(msg), `"method":"ping"`) {
				body = `{"id":"` + pingID(msg) + `","status":200,"result":{}}`
			} else {
				body = reply(conn, requestID(t, msg), msg)
			}
			if body != "" && c.Write(r.Context(), websocket.MessageText, []byte(body)) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	push = func(conn int, body string) error {
		mu.Lock()
		wc := conns[conn-1]
		mu.Unlock()
		if body == dropConn {
			return wc.c.CloseNow() // the venue drops the connection
		}
		return wc.c.Write(wc.ctx, websocket.MessageText, []byte(body))
	}
	return "ws" + strings.TrimPrefix(srv.URL, "http"), push
}

// TestS39sessIdlessRefusalBesideAQueryOnAnotherConnection: Binance's
// WS-API refusal echoing no id ({"id":null,…}, "Response format")
// answers the request alone awaiting an answer on the connection that
// read it. A reconciliation query in flight on the old connection (here
// the first subscription's openOrders.status, which the venue leaves
// unanswered) cannot be answered on a rotation's new connection: the new
// connection's user-data subscription, refused so, is refused — the
// rotation fails at once with the venue's code. Before s39sess any query
// in flight, on any connection, stopped the pairing: the subscription
// waited its 10 s (answerTimeout) for an answer that had come.
func TestS39sessIdlessRefusalBesideAQueryOnAnotherConnection(t *testing.T) {
	var queried atomic.Bool
	url, push := s39sessAPI(t, func(conn int, id uint64, msg []byte) string {
		switch m := string(msg); {
		case strings.Contains(m, "userDataStream.subscribe") && conn == 1:
			return fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, id)
		case strings.Contains(m, "userDataStream.subscribe"):
			return binanceNullRefusal
		case strings.Contains(m, `"openOrders.status"`) && conn == 1:
			queried.Store(true) // never answered: in flight on connection 1
		case queryAnswer(msg) != "":
			return fmt.Sprintf(`{"id":%d,%s}`, id, queryAnswer(msg))
		}
		return ""
	})
	ep := endpoints(startVenue(t))
	ep.API = url
	clk := newManualClock()
	refused := make(chan error, 16)
	cfg := session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true,
		OnState: func(c session.Conn, ev wsclient.Event) {
			var pe *wsclient.PrepareError
			if c.Role == session.RoleOrders && errors.As(ev.Err, &pe) {
				select {
				case refused <- ev.Err:
				default:
				}
			}
		}}
	cfg.Client.Clock = clk
	s := start(t, cfg)
	waitConnected(t, s)
	require.Eventually(t, queried.Load, generous, pollEvery, "the open orders asked on connection 1")

	require.NoError(t, push(1, binanceServerShutdown))
	var err error
	select {
	case err = <-refused:
	case <-time.After(generous): // a guard, not a wait
		t.Fatal("the new connection's refused subscription was not paired: the rotation waits for its deadline")
	}
	var verr *session.VenueError
	require.ErrorAs(t, err, &verr, "the rotation failed with the venue's refusal")
	require.Equal(t, int64(-1102), verr.Code)
}
