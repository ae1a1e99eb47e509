package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// apiRequest is one order request a scripted WS-API received, with the
// connection to answer it on.
type apiRequest struct {
	id   uint64
	msg  string
	conn *websocket.Conn
}

// answer writes a reply on the request's connection; an error means the
// connection is gone, which some tests want.
func (r apiRequest) answer(body string) error {
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	return r.conn.Write(ctx, websocket.MessageText, []byte(body))
}

// scriptedAPI is a WS-API that accepts the user-data subscription at once
// and hands every other request to the test, which answers (or does not)
// when and how it likes. conns counts the connections it accepted.
type scriptedAPI struct {
	url   string
	reqs  chan apiRequest
	mu    sync.Mutex
	conns []*websocket.Conn
	// refuse: new connections are refused (HTTP 503) while set.
	refuse bool
}

// setRefuse makes the API refuse new connections, or take them again.
func (a *scriptedAPI) setRefuse(v bool) {
	a.mu.Lock()
	a.refuse = v
	a.mu.Unlock()
}

func newScriptedAPI(t *testing.T) *scriptedAPI {
	t.Helper()
	a := &scriptedAPI{reqs: make(chan apiRequest, 256)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		refuse := a.refuse
		a.mu.Unlock()
		if refuse {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		a.mu.Lock()
		a.conns = append(a.conns, c)
		a.mu.Unlock()
		for {
			_, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if strings.Contains(string(msg), `"method":"ping"`) { // the session's on every connection
				if c.Write(r.Context(), websocket.MessageText, []byte(`{"id":"`+pingID(msg)+`","status":200,"result":{}}`)) != nil {
					return
				}
				continue
			}
			id := requestID(t, msg)
			if strings.Contains(string(msg), "userDataStream.subscribe") {
				if c.Write(r.Context(), websocket.MessageText, []byte(`{"id":`+strconv.FormatUint(id, 10)+`,"status":200,"result":{"subscriptionId":0}}`)) != nil {
					return
				}
				continue
			}
			if answer := queryAnswer(msg); answer != "" { // reconciliation's queries
				if c.Write(r.Context(), websocket.MessageText, []byte(`{"id":`+strconv.FormatUint(id, 10)+`,`+answer+`}`)) != nil {
					return
				}
				continue
			}
			a.reqs <- apiRequest{id: id, msg: string(msg), conn: c}
		}
	}))
	t.Cleanup(srv.Close)
	a.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return a
}

// dropAll closes every connection the API accepted, as a venue going away.
func (a *scriptedAPI) dropAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.conns {
		_ = c.Close(websocket.StatusGoingAway, "maintenance")
	}
	a.conns = nil
}

func (a *scriptedAPI) connCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.conns)
}

// next waits for the next order request.
func (a *scriptedAPI) next(t *testing.T) apiRequest {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	select {
	case r := <-a.reqs:
		return r
	case <-ctx.Done():
		require.FailNow(t, "no order request reached the scripted API")
		return apiRequest{}
	}
}

// pingID is the string id of a ping request.
func pingID(msg []byte) string {
	s := string(msg)
	i := strings.Index(s, `"id":"`)
	if i < 0 {
		return ""
	}
	s = s[i+6:]
	return s[:max(strings.IndexByte(s, '"'), 0)]
}

func requestID(t *testing.T, msg []byte) uint64 {
	s := string(msg)
	i := strings.Index(s, `"id":`)
	if i < 0 {
		return 0
	}
	s = s[i+5:]
	j := strings.IndexAny(s, ",}")
	id, err := strconv.ParseUint(strings.Trim(s[:j], `"`), 10, 64)
	if err != nil {
		t.Errorf("request id %q: %v", s[:j], err)
	}
	return id
}

// ackBody is Binance's WS-API answer to order.place (RESULT without fills).
func ackBody(id uint64, client string, orderID int) string {
	return fmt.Sprintf(`{"id":%d,"status":200,"result":{"symbol":"BTCUSDT","orderId":%d,"orderListId":-1,"clientOrderId":%q,`+
		`"transactTime":1700000000000,"price":"1000.00000000","origQty":"0.50000000","executedQty":"0.00000000",`+
		`"cummulativeQuoteQty":"0.00000000","status":"NEW","timeInForce":"GTC","type":"LIMIT","side":"BUY",`+
		`"workingTime":1700000000000,"selfTradePreventionMode":"NONE"}}`, id, orderID, client)
}

// errorBody is Binance's WS-API error answer.
func errorBody(id uint64, code int, msg string) string {
	return fmt.Sprintf(`{"id":%d,"status":400,"error":{"code":%d,"msg":%q}}`, id, code, msg)
}

// strictPools are pools in the debug mode: a second Put, a Put of a clone
// or a Put after Close panics with both stacks.
func strictPools() *schema.Pools { return schema.NewPools(&pool.Options{CaptureStacks: true}) }

func credentialsWith(secret string) *normalize.Credentials {
	return normalize.NewCredentials(apiKey, normalize.NewHMACSigner([]byte(secret)))
}

// placeAsync places req on a goroutine of its own; the channel gets
// Place's error. req stays the caller's.
func placeAsync(ctx context.Context, s *session.Session, req *schema.OrderRequest) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := s.Place(ctx, req)
		done <- err
	}()
	return done
}

// dropAPI closes the venue's one WS-API connection and waits until the
// session has subscribed to user data on the next one (which means it has
// seen the loss). It returns the new subscription's index.
func dropAPI(t *testing.T, v *venuesim.Venue) int {
	t.Helper()
	before := len(v.UserDataSubscriptions())
	// The venue may still hold the previous connection it closed, until
	// its goroutine ends: at least one.
	require.GreaterOrEqual(t, v.CloseAPI(), 1)
	require.Eventually(t, func() bool { return len(v.UserDataSubscriptions()) > before }, generous, pollEvery)
	return before
}

// readyNow reports whether WaitConnected would return at once with nil.
func readyNow(s *session.Session) bool {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	return s.WaitConnected(ended) == nil
}

// mustPlace places a small resting buy with client order id client and
// requires the venue's acceptance.
func mustPlace(t *testing.T, s *session.Session, client string) session.Ack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(s, t, client, "buy", "1000.00", "0.01")
	defer s.Pools().Orders.Put(req)
	ack, err := s.Place(ctx, req)
	require.NoError(t, err)
	return ack
}

// slowHost is an OnState that gets stuck on the order connection's first
// Connected event until released: every later event of that connection
// waits behind it. Register release with t.Cleanup after start: Close
// waits for OnState.
type slowHost struct {
	gate    chan struct{}
	once    sync.Once
	blocked atomic.Bool
}

func newSlowHost() *slowHost { return &slowHost{gate: make(chan struct{})} }

func (h *slowHost) onState(c session.Conn, e wsclient.Event) {
	if c.Role == session.RoleOrders && e.State == schema.ConnConnected && h.blocked.CompareAndSwap(false, true) {
		<-h.gate
	}
}

func (h *slowHost) release() { h.once.Do(func() { close(h.gate) }) }

// nextConn waits until the order client is on a connection other than id.
func nextConn(t *testing.T, s *session.Session, id uint64) {
	t.Helper()
	require.Eventually(t, func() bool {
		n := s.Stats().Orders.Client.ConnID
		return n != 0 && n != id
	}, generous, pollEvery, "the client is on a new connection")
}

// queryAnswer is what the scripted API answers to reconciliation's
// queries, "" for other requests: no open order, no such order, no trade.
func queryAnswer(msg []byte) string {
	switch {
	case strings.Contains(string(msg), `"openOrders.status"`), strings.Contains(string(msg), `"myTrades"`):
		return `"status":200,"result":[]`
	case strings.Contains(string(msg), `"order.status"`):
		return `"status":400,"error":{"code":-2013,"msg":"Order does not exist."}`
	}
	return ""
}
