package session_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// dropConn, as the only reply, makes the fake venue drop the connection.
const dropConn = "\x00drop"

const bybitInstruments = `{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[{"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT","status":"Trading","lotSizeFilter":{"basePrecision":"0.000001","quotePrecision":"0.00000001","minOrderQty":"0.000048","maxOrderQty":"71.73956243","minOrderAmt":"1","maxOrderAmt":"2000000"},"priceFilter":{"tickSize":"0.01"}}],"nextPageCursor":""},"retExtInfo":{},"time":1711001595209}`

// orderSeen is an order request the fake venue received: on which
// connection, whether that connection was logged in then, its op, id,
// order and (Bybit) header.
type orderSeen struct {
	conn     int
	loggedIn bool
	op, id   string
	arg      map[string]any
	header   map[string]any
	token    string // Kraken: the request's WebSocket token
}

func (f *fakePrivate) setLoggedIn(conn int) {
	f.mu.Lock()
	f.loggedIn[conn] = true
	f.mu.Unlock()
}

// waitLogin holds a login's answer while holdLogin is open.
func (f *fakePrivate) waitLogin() {
	f.mu.Lock()
	hold := f.holdLogin
	f.mu.Unlock()
	if hold != nil {
		<-hold
	}
}

// waitPrivateLogin is waitLogin for the private channels' connection,
// counting the logins held.
func (f *fakePrivate) waitPrivateLogin() {
	f.mu.Lock()
	if f.holdLogin != nil {
		f.heldLogins++
	}
	f.mu.Unlock()
	f.waitLogin()
}

func (f *fakePrivate) setScript(do func(o orderSeen) ([]string, bool)) {
	f.mu.Lock()
	f.script = do
	f.mu.Unlock()
}

func (f *fakePrivate) ordersSeen() []orderSeen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]orderSeen(nil), f.orders...)
}

// orderAnswer records an order request and answers it as the script says;
// without a script, the venue accepts it.
func (f *fakePrivate) orderAnswer(conn int, m map[string]any) []string {
	o := orderSeen{conn: conn}
	o.op, _ = m["op"].(string)
	o.id, _ = m["id"].(string)
	switch f.venue {
	case schema.VenueBybit:
		o.id, _ = m["reqId"].(string)
		o.header, _ = m["header"].(map[string]any)
	case schema.VenueKraken: // {"method","params":{…,"token"},"req_id"}
		o.op, _ = m["method"].(string)
		id, _ := m["req_id"].(float64)
		o.id = strconv.FormatFloat(id, 'f', -1, 64)
		o.arg, _ = m["params"].(map[string]any)
		o.token, _ = o.arg["token"].(string)
		delete(o.arg, "token")
	}
	if args, _ := m["args"].([]any); len(args) == 1 {
		o.arg, _ = args[0].(map[string]any)
	}
	f.mu.Lock()
	o.loggedIn = f.loggedIn[conn]
	if f.venue == schema.VenueKraken { // the token of this connection's subscriptions
		tok := f.tokens[o.token]
		o.loggedIn = o.loggedIn && tok != nil && tok.conn == conn
	}
	f.orders = append(f.orders, o)
	do := f.script
	f.mu.Unlock()
	if !o.loggedIn { // the venue's refusal of a connection not logged in
		switch f.venue {
		case schema.VenueBybit:
			return []string{bybitRefusal(o, 10003, "not authorized")}
		case schema.VenueKraken:
			return []string{krakenRefusal(o, "EAPI:Invalid key")}
		}
		return []string{okxRefusal(o, 60011, "Please log in")}
	}
	if do == nil {
		return []string{acceptOrder(f.venue, o)}
	}
	replies, drop := do(o)
	if drop {
		return []string{dropConn}
	}
	return replies
}

func acceptOrder(v schema.Venue, o orderSeen) string {
	if v == schema.VenueKraken {
		cl := ""
		if s, ok := o.arg["cl_ord_id"].(string); ok {
			cl = `,"cl_ord_id":"` + s + `"`
		}
		return `{"method":"` + o.op + `","req_id":` + o.id + `,"result":{"order_id":"ORD-` + o.id + `"` + cl + `},"success":true,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`
	}
	if v == schema.VenueBybit {
		return `{"reqId":"` + o.id + `","retCode":0,"retMsg":"OK","op":"` + o.op + `","data":{"orderId":"ORD-` + o.id + `","orderLinkId":"` + str(o.arg["orderLinkId"]) + `"},"retExtInfo":{},"header":{"X-Bapi-Limit":"10","Traceid":"77b8e5ac","Timenow":"1711001595209"},"connId":"cnt5leec0hvan15eukcg-2t"}`
	}
	return `{"id":"` + o.id + `","op":"` + o.op + `","data":[{"clOrdId":"` + str(o.arg["clOrdId"]) + `","ordId":"ORD-` + o.id + `","tag":"","ts":"1695190491421","sCode":"0","sMsg":""}],"code":"0","msg":"","inTime":"1695190491421339","outTime":"1695190491423240"}`
}

func okxRefusal(o orderSeen, code int, msg string) string {
	return `{"id":"` + o.id + `","op":"` + o.op + `","data":[{"clOrdId":"` + str(o.arg["clOrdId"]) + `","ordId":"","tag":"","ts":"1695190491421","sCode":"` + strconv.Itoa(code) + `","sMsg":"` + msg + `"}],"code":"1","msg":"","inTime":"1695190491421339","outTime":"1695190491423240"}`
}

func bybitRefusal(o orderSeen, code int, msg string) string {
	return `{"reqId":"` + o.id + `","retCode":` + strconv.Itoa(code) + `,"retMsg":"` + msg + `","op":"` + o.op + `","data":{},"retExtInfo":{},"header":{"Timenow":"1711001595209"},"connId":"cnt5leec0hvan15eukcg-2t"}`
}

// krakenRefusal is Kraken v2's answer to a request it refused: its error
// string, no number (Kraken "add_order", response).
func krakenRefusal(o orderSeen, msg string) string {
	return `{"error":"` + msg + `","method":"` + o.op + `","req_id":` + o.id + `,"success":false,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`
}

func str(v any) string { s, _ := v.(string); return s }

// serveTrade is Bybit's trade WebSocket: auth (checked as the private
// connection's is, but with a replay check of its own), ping, and the
// order requests, each checked against the venue's clock and recvWindow.
func (f *fakePrivate) serveTrade(w http.ResponseWriter, r *http.Request) {
	c, n := f.accept(w, r)
	if c == nil {
		return
	}
	defer func() { _ = c.CloseNow() }()
	ctx := r.Context()
	var lastExp int64
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		var m map[string]any
		require.NoError(f.t, json.Unmarshal(msg, &m))
		var replies []string
		switch m["op"] {
		case "ping":
			replies = []string{`{"retCode":0,"retMsg":"OK","op":"pong","data":["1711003367212"],"connId":"x"}`}
		case "auth":
			args, _ := m["args"].([]any)
			exp := int64(args[1].(float64))
			mac := hmac.New(sha256.New, f.secret)
			mac.Write([]byte("GET/realtime" + strconv.FormatInt(exp, 10)))
			f.mu.Lock()
			reject := f.reject
			f.mu.Unlock()
			if args[0] != "bybit-key" || args[2] != hex.EncodeToString(mac.Sum(nil)) || exp <= lastExp || reject || m["reqId"] == nil {
				replies = []string{`{"retCode":10004,"retMsg":"Invalid sign","op":"auth","connId":"x"}`}
				break
			}
			lastExp = exp
			f.waitLogin()
			f.setLoggedIn(n)
			replies = []string{`{"retCode":0,"retMsg":"OK","op":"auth","connId":"x","reqId":"` + m["reqId"].(string) + `"}`}
		case "order.create", "order.cancel":
			hdr, _ := m["header"].(map[string]any)
			ts, _ := strconv.ParseInt(str(hdr["X-BAPI-TIMESTAMP"]), 10, 64)
			window, _ := strconv.ParseInt(str(hdr["X-BAPI-RECV-WINDOW"]), 10, 64)
			server := f.serverNow().UnixMilli()
			if ts < server-window || ts >= server+1000 { // outside Bybit's rule: server − recvWindow ≤ ts < server + 1 s
				replies = []string{bybitRefusal(orderSeen{id: str(m["reqId"]), op: m["op"].(string)}, 10002, "invalid request, please check your server timestamp or recv_window param")}
				break
			}
			replies = f.orderAnswer(n, m)
		default:
			f.t.Errorf("fake trade: unexpected message %s", msg)
		}
		f.mu.Lock()
		alter := f.alterTrade
		f.mu.Unlock()
		if alter != nil {
			replies = alter(n, msg, replies)
		}
		for _, rep := range replies {
			if rep == dropConn {
				return
			}
			if c.Write(ctx, websocket.MessageText, []byte(rep)) != nil {
				return
			}
		}
	}
}

// orderCase is a venue whose orders the session places.
type orderCase struct {
	venue   schema.Venue
	channel string
	key     func(f *fakePrivate) session.Key
	// refuse is the venue's refusal of o with its code and message.
	refuse func(o orderSeen) string
	code   int64
	msg    string
	// badAnswer is an answer to o the session cannot read.
	badAnswer func(o orderSeen) string
	// unsupported makes a valid order the venue's operation cannot
	// express; badClientID is a client order id outside its alphabet.
	unsupported func(req *schema.OrderRequest)
	badClientID string
	// place is the order the venue receives for venueLimit's, cancel the
	// cancel by client id "bot1".
	place, cancel map[string]any
}

func orderCases() []orderCase {
	return []orderCase{
		{venue: schema.VenueOKX, channel: "trades",
			key: func(f *fakePrivate) session.Key {
				return &session.OKXKey{APIKey: "okx-key", Passphrase: "okx-pass", Secret: f.secret}
			},
			refuse: func(o orderSeen) string {
				return okxRefusal(o, 51008, "Order failed. Insufficient USDT balance in account.")
			},
			code: 51008, msg: "Order failed. Insufficient USDT balance in account.",
			badAnswer:   func(o orderSeen) string { return `{"id":"` + o.id + `","op":"order","code":{"x":1},"data":[]}` },
			unsupported: stopLimit, badClientID: "no.dots",
			place:  map[string]any{"instId": "BTC-USDT", "tdMode": "cash", "clOrdId": "bot1", "side": "buy", "ordType": "limit", "sz": "0.001", "px": "25000.1"},
			cancel: map[string]any{"instId": "BTC-USDT", "clOrdId": "bot1"}},
		{venue: schema.VenueBybit, channel: "publicTrade",
			key:    func(f *fakePrivate) session.Key { return &session.BybitKey{APIKey: "bybit-key", Secret: f.secret} },
			refuse: func(o orderSeen) string { return bybitRefusal(o, 170131, "Insufficient balance.") },
			code:   170131, msg: "Insufficient balance.",
			badAnswer: func(o orderSeen) string {
				return `{"reqId":"` + o.id + `","retCode":0,"op":"order.create","data":{"orderId":["x"]}}`
			},
			unsupported: stopLimit, badClientID: "no.dots",
			place:  map[string]any{"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": "25000.1", "timeInForce": "GTC", "orderLinkId": "bot1"},
			cancel: map[string]any{"category": "spot", "symbol": "BTCUSDT", "orderLinkId": "bot1"}},
	}
}

// stopLimit makes req a stop-limit order: OKX's and Bybit's are algo or
// conditional orders, which their order operations do not place.
func stopLimit(req *schema.OrderRequest) {
	req.Type, req.StopPrice = schema.OrderTypeStopLossLimit, schema.MustParseDecimal("24000")
}

// placeCases are the venues whose orders the session places on their
// authenticated WebSocket: orderCases (whose executions are reconciled
// too) and Kraken (add_order and cancel_order on its private connection).
func placeCases() []orderCase {
	return append(orderCases(), orderCase{venue: schema.VenueKraken, channel: "trade",
		key: func(f *fakePrivate) session.Key {
			return &session.KrakenKey{APIKey: "kraken-key", Secret: base64.StdEncoding.EncodeToString(f.secret)}
		},
		refuse: func(o orderSeen) string { return krakenRefusal(o, "EOrder:Insufficient funds") },
		msg:    "EOrder:Insufficient funds", // code 0: Kraken's errors carry no number
		badAnswer: func(o orderSeen) string {
			return `{"method":"add_order","req_id":` + o.id + `,"success":"yes"}`
		},
		unsupported: func(req *schema.OrderRequest) { req.TimeInForce = schema.TIFFOK }, // gtc, gtd, ioc only
		badClientID: "nineteen-characters",                                              // free text: at most 18
		place:       map[string]any{"order_type": "limit", "side": "buy", "order_qty": 0.001, "symbol": "BTC/USDT", "limit_price": 25000.1, "time_in_force": "gtc", "cl_ord_id": "bot1"},
		cancel:      map[string]any{"cl_ord_id": []any{"bot1"}},
	})
}

// startOrders starts a session on the fake venue with its private (and,
// for Bybit, trade) connection and its instrument rules.
func startOrders(t *testing.T, c orderCase, f *fakePrivate, edit func(*session.Config)) *session.Session {
	t.Helper()
	cfg := session.Config{Venue: c.venue, Endpoints: f.endpoints(), Symbols: []string{"BTC-USDT"}, Channels: []string{c.channel},
		Key: c.key(f), Client: fastRedial}
	// On an injected clock, as startVenueRecon's: a stall of a busy
	// machine never fires the 10 s handshake deadline (s42flake).
	cfg.Client.Clock = newStallClock()
	if edit != nil {
		edit(&cfg)
	}
	return start(t, cfg)
}

// connectedOrders starts a fake venue and a session on it, and waits
// until the session is connected and logged in.
func connectedOrders(t *testing.T, c orderCase) (*fakePrivate, *session.Session) {
	t.Helper()
	f := newFakePrivate(t, c.venue, nil)
	s := startOrders(t, c, f, nil)
	waitConnected(t, s)
	return f, s
}

func venueLimit(t *testing.T, s *session.Session, clientID string) *schema.OrderRequest {
	t.Helper()
	req, err := s.Pools().Orders.Get(context.Background())
	require.NoError(t, err)
	req.Symbol, req.Side, req.Type, req.TimeInForce = "BTC-USDT", schema.SideBuy, schema.OrderTypeLimit, schema.TIFGTC
	req.Price, req.Qty, req.ClientOrderID = schema.MustParseDecimal("25000.1"), schema.MustParseDecimal("0.001"), schema.MustID(clientID)
	return req
}

func place(t *testing.T, s *session.Session, ctx context.Context, clientID string) (session.Ack, error) {
	t.Helper()
	req := venueLimit(t, s, clientID)
	defer s.Pools().Orders.Put(req)
	return s.Place(ctx, req)
}

// TestVenueOrdersAckRefusalCancel: on OKX and Bybit, Place waits for the
// login by itself, sends the order on the logged-in connection (Bybit: its
// trade connection, stamped within recvWindow of the venue's clock) and
// returns the venue's acceptance with the order's ids, or its refusal as a
// *VenueError with the venue's code and message; Cancel names the order
// by its client id. The answers reach the dispatcher too.
func TestVenueOrdersAckRefusalCancel(t *testing.T) {
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, nil)
			answers := make(chan *schema.CanonicalEvent, 16)
			s := startOrders(t, c, f, func(cfg *session.Config) {
				cfg.Subscribe = func(d *dispatch.Dispatcher) error {
					_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventOrderAck, schema.EventControl}}, &dispatch.SubscribeOptions{
						Handler: func(ev *schema.CanonicalEvent) {
							if ev.Type == schema.EventOrderAck || ev.Control.Kind == schema.ControlVenueError {
								answers <- ev
							}
						}})
					return err
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()

			ack, err := place(t, s, ctx, "bot1") // no WaitConnected first
			require.NoError(t, err)
			seen := f.ordersSeen()
			require.Len(t, seen, 1)
			o := seen[0]
			assert.True(t, o.loggedIn, "sent on a logged-in connection")
			assert.Equal(t, strconv.FormatUint(ack.RequestID, 10), o.id)
			assert.Equal(t, "BTC-USDT", ack.Symbol)
			assert.Equal(t, "ORD-"+o.id, ack.VenueOrderID.String())
			assert.Equal(t, "bot1", ack.ClientOrderID.String())
			assert.Equal(t, map[schema.Venue]string{schema.VenueOKX: "order", schema.VenueBybit: "order.create", schema.VenueKraken: "add_order"}[c.venue], o.op)
			assert.Equal(t, c.place, o.arg)
			if c.venue == schema.VenueBybit {
				assert.Equal(t, "5000", o.header["X-BAPI-RECV-WINDOW"])
			}

			f.setScript(func(o orderSeen) ([]string, bool) { return []string{c.refuse(o)}, false })
			_, err = place(t, s, ctx, "bot2")
			var verr *session.VenueError
			require.ErrorAs(t, err, &verr)
			assert.Equal(t, c.code, verr.Code)
			assert.Equal(t, c.msg, verr.Msg)
			assert.NotZero(t, verr.RequestID)

			f.setScript(nil)
			req, err := s.Pools().Orders.Get(ctx)
			require.NoError(t, err)
			req.Symbol, req.OrigClientOrderID = "BTC-USDT", schema.MustID("bot1")
			cack, err := s.Cancel(ctx, req)
			s.Pools().Orders.Put(req)
			require.NoError(t, err)
			seen = f.ordersSeen()
			require.Len(t, seen, 3)
			assert.Equal(t, map[schema.Venue]string{schema.VenueOKX: "cancel-order", schema.VenueBybit: "order.cancel", schema.VenueKraken: "cancel_order"}[c.venue], seen[2].op)
			assert.Equal(t, c.cancel, seen[2].arg)
			assert.Greater(t, cack.RequestID, ack.RequestID)

			st := s.Stats().Order
			assert.Equal(t, uint64(3), st.Sent)
			assert.Equal(t, uint64(3), st.Answered)
			assert.Zero(t, st.Pending)
			for i, want := range []schema.EventType{schema.EventOrderAck, schema.EventControl, schema.EventOrderAck} {
				select {
				case ev := <-answers:
					assert.Equal(t, want, ev.Type, "answer %d", i)
					assert.Equal(t, c.venue, ev.Venue)
					assert.Equal(t, "BTC-USDT", ev.Symbol)
					assert.NotZero(t, ev.Control.RequestID)
				case <-time.After(generous):
					t.Fatal("the answers were not published")
				}
			}
		})
	}
}

// TestVenueOrdersDisconnectWhileWaiting: the venue drops the connection
// before answering: Place returns ErrDisconnected at once (the outcome is
// unknown), and the next order goes out after a new login on the new
// connection.
func TestVenueOrdersDisconnectWhileWaiting(t *testing.T) {
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, nil)
			var now atomicTime
			now.set(time.Now())
			f.setServerClock(now.get) // the venue's clock moves with the test's
			s := startOrders(t, c, f, func(cfg *session.Config) { cfg.Now = now.get })
			waitConnected(t, s)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			var once sync.Once
			f.setScript(func(o orderSeen) ([]string, bool) {
				drop := false
				once.Do(func() { drop = true })
				if drop {
					now.set(now.get().Add(2 * time.Second)) // OKX's login is stamped in seconds: the next one is newer
					return nil, true
				}
				return []string{acceptOrder(c.venue, o)}, false
			})
			ack, err := place(t, s, ctx, "lost1")
			require.ErrorIs(t, err, session.ErrDisconnected)
			assert.NotZero(t, ack.RequestID)
			assert.Equal(t, uint64(1), s.Stats().Order.Disconnected)

			_, err = place(t, s, ctx, "next1")
			require.NoError(t, err)
			seen := f.ordersSeen()
			require.Len(t, seen, 2)
			assert.Greater(t, seen[1].conn, seen[0].conn, "on the new connection")
			assert.True(t, seen[1].loggedIn, "after its login")
			assert.Zero(t, s.Stats().Order.Pending)
		})
	}
}

// TestVenueOrdersDeadline: a venue that does not answer: Place returns
// when its context ends, with the request id and ctx's error; a context
// ended before the call sends nothing.
func TestVenueOrdersDeadline(t *testing.T) {
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			f, s := connectedOrders(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			f.setScript(func(orderSeen) ([]string, bool) {
				cancel() // the caller gives up as the venue gets the order
				return nil, false
			})
			ack, err := place(t, s, ctx, "slow1")
			require.ErrorIs(t, err, context.Canceled)
			assert.NotErrorIs(t, err, session.ErrNotSent)
			assert.NotZero(t, ack.RequestID)
			st := s.Stats().Order
			assert.Equal(t, uint64(1), st.TimedOut)
			assert.Zero(t, st.Pending)

			_, err = place(t, s, ctx, "never1") // ctx has ended
			require.ErrorIs(t, err, session.ErrNotSent)
			require.ErrorIs(t, err, context.Canceled)
			assert.Len(t, f.ordersSeen(), 1, "nothing sent")
		})
	}
}

// TestVenueOrdersBadAnswer: an answer the session cannot read is
// ErrBadAnswer to its caller at once; the connection carries on.
func TestVenueOrdersBadAnswer(t *testing.T) {
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			f, s := connectedOrders(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			f.setScript(func(o orderSeen) ([]string, bool) { return []string{c.badAnswer(o)}, false })
			_, err := place(t, s, ctx, "bad1")
			require.ErrorIs(t, err, session.ErrBadAnswer)
			var pe *normalize.ParseError
			require.ErrorAs(t, err, &pe)
			f.setScript(nil)
			_, err = place(t, s, ctx, "good1")
			require.NoError(t, err)
			seen := f.ordersSeen()
			require.Len(t, seen, 2)
			assert.Equal(t, seen[0].conn, seen[1].conn, "the same connection")
		})
	}
}

// TestVenueOrdersWaitForLogin: Place called before the venue has answered
// the login waits for it; the order goes out on the logged-in connection
// (the fake venue refuses one on a connection not logged in).
func TestVenueOrdersWaitForLogin(t *testing.T) {
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, nil)
			hold := make(chan struct{})
			f.holdLogin = hold
			s := startOrders(t, c, f, nil)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			require.Eventually(t, func() bool { return len(f.loginsSeen()) > 0 }, generous, pollEvery, "the login is held")
			done := make(chan error, 1)
			go func() {
				_, err := place(t, s, ctx, "early1")
				done <- err
			}()
			close(hold)
			require.NoError(t, <-done)
			seen := f.ordersSeen()
			require.Len(t, seen, 1)
			assert.True(t, seen[0].loggedIn)
		})
	}
}

// TestVenueOrdersCloseWhileWaiting: Close ends a wait for an answer with
// ErrClosed.
func TestVenueOrdersCloseWhileWaiting(t *testing.T) {
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			f, s := connectedOrders(t, c)
			got := make(chan struct{})
			f.setScript(func(orderSeen) ([]string, bool) { close(got); return nil, false })
			done := make(chan error, 1)
			go func() {
				_, err := place(t, s, context.Background(), "closing1")
				done <- err
			}()
			select {
			case <-got:
			case err := <-done:
				t.Fatalf("Place returned before the venue had the order: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			require.NoError(t, s.Close(ctx))
			require.ErrorIs(t, <-done, session.ErrClosed)
		})
	}
}

// TestVenueOrdersCheckedBeforeSending: an order that breaks its
// instrument's rules, or that the venue's operation cannot express, fails
// before anything is sent (and without waiting for the connection).
func TestVenueOrdersCheckedBeforeSending(t *testing.T) {
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, nil)
			s := startOrders(t, c, f, nil)
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // no wait could succeed: the checks answer first

			req := venueLimit(t, s, "tiny1")
			req.Qty = schema.MustParseDecimal("0.000000001") // below the step and the minimum
			_, err := s.Place(ctx, req)
			var rerr *normalize.RuleError
			require.ErrorAs(t, err, &rerr)

			req.Qty = schema.MustParseDecimal("0.001")
			c.unsupported(req)
			_, err = s.Place(ctx, req)
			require.ErrorIs(t, err, normalize.ErrUnsupported)
			s.Pools().Orders.Put(req)

			req = venueLimit(t, s, c.badClientID)
			_, err = s.Place(ctx, req)
			require.ErrorIs(t, err, normalize.ErrBadValue)

			req.ClientOrderID, req.Venue = schema.MustID("ok1"), schema.VenueBinance
			_, err = s.Place(ctx, req)
			require.ErrorIs(t, err, session.ErrConfig)
			s.Pools().Orders.Put(req)
			assert.Empty(t, f.ordersSeen())
		})
	}
}

// TestVenueOrdersNotOffered: Coinbase's private connection places no
// orders (Advanced Trade's are REST only), nor does Bybit without its
// trade endpoint: ErrNoCredentials, saying why.
func TestVenueOrdersNotOffered(t *testing.T) {
	for _, c := range privateCases(t) {
		if c.venue == schema.VenueOKX || c.venue == schema.VenueKraken {
			continue
		}
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, c.pushes)
			cfg := c.config(f, time.Now)
			cfg.Endpoints.Trade = ""
			s := start(t, cfg)
			req := venueLimit(t, s, "x1")
			defer s.Pools().Orders.Put(req)
			_, err := s.Place(context.Background(), req)
			require.ErrorIs(t, err, session.ErrNoCredentials)
			assert.Contains(t, err.Error(), map[schema.Venue]string{schema.VenueBybit: "Endpoints.Trade"}[c.venue])
		})
	}
}

// TestBybitTradeLoginRefused: the trade connection's auth refused is a
// *LoginError of step "trade login" with Bybit's code; orders wait, and go
// once the venue accepts a new auth (made anew after the backoff).
func TestBybitTradeLoginRefused(t *testing.T) {
	c := orderCases()[1]
	f, s := connectedOrders(t, c)
	f.setReject(true)
	f.dropAll() // both connections log in again, and are refused
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	var lerr *session.LoginError
	require.Eventually(t, func() bool {
		err := s.WaitConnected(ctx)
		return errors.As(err, &lerr) && lerr.Step == "trade login"
	}, generous, pollEvery)
	assert.Equal(t, int64(10004), lerr.Code)
	assert.Equal(t, schema.VenueBybit, lerr.Venue)
	f.setReject(false)
	require.Eventually(t, func() bool {
		_, err := place(t, s, ctx, "after1")
		return err == nil
	}, generous, pollEvery)
	assert.NotZero(t, s.Stats().Trade.Client.ConnID)
}

// TestVenueOrdersConcurrent: orders placed at once each get their own
// answer, matched by request id.
func TestVenueOrdersConcurrent(t *testing.T) {
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			f, s := connectedOrders(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			const n = 8
			acks := make(chan session.Ack, n)
			errs := make(chan error, n)
			for i := range n {
				req := venueLimit(t, s, "par"+strconv.Itoa(i))
				go func() {
					defer s.Pools().Orders.Put(req)
					ack, err := s.Place(ctx, req)
					acks <- ack
					errs <- err
				}()
			}
			ids := map[uint64]bool{}
			for range n {
				require.NoError(t, <-errs)
				ack := <-acks
				ids[ack.RequestID] = true
				assert.Equal(t, "ORD-"+strconv.FormatUint(ack.RequestID, 10), ack.VenueOrderID.String(), "its own answer")
			}
			assert.Len(t, ids, n)
			assert.Len(t, f.ordersSeen(), n)
			st := s.Stats().Order
			assert.Equal(t, uint64(n), st.Answered)
			assert.Zero(t, st.Pending)
		})
	}
}
