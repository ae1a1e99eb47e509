package meltica_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// OKX v5 loopback, from OKX's docs: "WebSocket → Login" (answer
// {"event":"login","code":"0","msg":"","connId":…}; failure
// {"event":"error","code":"60009","msg":"Login failed.","connId":…}),
// "Subscribe" ({"event":"subscribe","arg":{…},"connId":…}), "Order
// channel" pushes, "WS / Place order" and "WS / Cancel order" answers
// ({"id","op","code","msg","data":[{clOrdId,ordId,tag,ts,sCode,sMsg}],
// "inTime","outTime"}).
const s30ctOKXInstruments = `{"code":"0","msg":"","data":[{"instType":"SPOT","instId":"BTC-USDT","uly":"","baseCcy":"BTC","quoteCcy":"USDT","settleCcy":"","ctVal":"","ctMult":"","ctValCcy":"","tickSz":"0.1","lotSz":"0.00000001","minSz":"0.00001","maxLmtSz":"9999999999","maxMktSz":"1000000","maxLmtAmt":"20000000","maxMktAmt":"1000000","state":"live"}]}`

type s30ctOKX struct {
	*s30ctPeer
	mu     sync.Mutex
	order  func(c *s30ctConn, id, cid string) []string // nil: ack
	cancel func(c *s30ctConn, id, cid string) []string // nil: ack
	login  func(c *s30ctConn) []string                 // nil: success
	// REST order state for reconciliation (by clOrdId)
	restOrder map[string]string // clOrdId → data object of /trade/order
	restFills map[string]string // ordId → data array items of /trade/fills
	queries   []string
	clock     *s27ctClock // the session's Client.Clock when set
}

func s30ctOKXAck(id, op, cid, ordID string) string {
	return fmt.Sprintf(`{"id":%q,"op":%q,"code":"0","msg":"","data":[{"clOrdId":%q,"ordId":%q,"tag":"","ts":"1695190491421","sCode":"0","sMsg":""}],"inTime":"1695190491421339","outTime":"1695190491423240"}`, id, op, cid, ordID)
}

// s30ctOKXOrderPush is an "orders" channel push of one spot order.
func s30ctOKXOrderPush(cid, ordID, state, fillSz, accFillSz, tradeID, fillPx string) string {
	return fmt.Sprintf(`{"arg":{"channel":"orders","instType":"SPOT","uid":"77"},"data":[{"instType":"SPOT","instId":"BTC-USDT","tgtCcy":"","ccy":"","ordId":%q,"clOrdId":%q,"algoClOrdId":"","algoId":"","tag":"","px":"1000.1","sz":"0.5","notionalUsd":"","ordType":"limit","side":"buy","posSide":"net","tdMode":"cash","fillPx":%q,"tradeId":%q,"fillSz":%q,"fillTime":"1695190491500","fillFee":"0","fillFeeCcy":"BTC","execType":"M","accFillSz":%q,"fillNotionalUsd":"","avgPx":"1000.1","state":%q,"lever":"0","attachAlgoClOrdId":"","tpTriggerPx":"","tpTriggerPxType":"","tpOrdPx":"","slTriggerPx":"","slTriggerPxType":"","slOrdPx":"","stpId":"","stpMode":"","feeCcy":"BTC","fee":"-0.0001","rebateCcy":"USDT","rebate":"0","pnl":"0","source":"","cancelSource":"","category":"normal","uTime":"1695190491500","cTime":"1695190491421","reqId":"","amendResult":"","reduceOnly":"false","quickMgnType":"","amendSource":"","code":"0","msg":""}]}`,
		ordID, cid, fillPx, tradeID, fillSz, accFillSz, state)
}

func newS30ctOKX(t *testing.T) *s30ctOKX {
	o := &s30ctOKX{s30ctPeer: newS30ctPeer(t), restOrder: map[string]string{}, restFills: map[string]string{}}
	o.rest("/api/v5/public/instruments", func(*http.Request) string { return s30ctOKXInstruments })
	o.rest("/api/v5/trade/order", func(r *http.Request) string {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.queries = append(o.queries, r.URL.String())
		if d, ok := o.restOrder[r.URL.Query().Get("clOrdId")]; ok {
			return `{"code":"0","msg":"","data":[` + d + `]}`
		}
		for _, d := range o.restOrder {
			if strings.Contains(d, `"ordId":"`+r.URL.Query().Get("ordId")+`"`) && r.URL.Query().Get("ordId") != "" {
				return `{"code":"0","msg":"","data":[` + d + `]}`
			}
		}
		// OKX: 51603 "Order does not exist"
		return `{"code":"51603","msg":"Order does not exist","data":[]}`
	})
	o.rest("/api/v5/trade/fills", func(r *http.Request) string {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.queries = append(o.queries, r.URL.String())
		if r.URL.Query().Get("after") != "" {
			return `{"code":"0","msg":"","data":[]}`
		}
		return `{"code":"0","msg":"","data":[` + o.restFills[r.URL.Query().Get("ordId")] + `]}`
	})
	o.rest("/api/v5/", func(*http.Request) string { return `{"code":"0","msg":"","data":[]}` })
	o.handle("/ws/v5/public", func(c *s30ctConn, text string) []string {
		if text == "ping" {
			return []string{"pong"}
		}
		m := s28ctJSON(t, []byte(text))
		if m["op"] == "subscribe" {
			var out []string
			for _, a := range m["args"].([]any) {
				arg, _ := s28ctArgJSON(a)
				out = append(out, `{"event":"subscribe","arg":`+arg+`,"connId":"p1"}`)
			}
			return out
		}
		return nil
	})
	o.handle("/ws/v5/private", func(c *s30ctConn, text string) []string {
		if text == "ping" {
			return []string{"pong"}
		}
		m := s28ctJSON(t, []byte(text))
		id, _ := m["id"].(string)
		o.mu.Lock()
		login, order, cancel := o.login, o.order, o.cancel
		o.mu.Unlock()
		switch m["op"] {
		case "login":
			if login != nil {
				return login(c)
			}
			return []string{`{"event":"login","code":"0","msg":"","connId":"a4d3ae55"}`}
		case "subscribe":
			var out []string
			for _, a := range m["args"].([]any) {
				arg, _ := s28ctArgJSON(a)
				idf := ""
				if id != "" {
					idf = fmt.Sprintf(`"id":%q,`, id)
				}
				out = append(out, `{`+idf+`"event":"subscribe","arg":`+arg+`,"connId":"a4d3ae55"}`)
			}
			return out
		case "order":
			a := m["args"].([]any)[0].(map[string]any)
			cid, _ := a["clOrdId"].(string)
			if order != nil {
				return order(c, id, cid)
			}
			return []string{s30ctOKXAck(id, "order", cid, "9000")}
		case "cancel-order":
			a := m["args"].([]any)[0].(map[string]any)
			cid, _ := a["clOrdId"].(string)
			if cancel != nil {
				return cancel(c, id, cid)
			}
			return []string{s30ctOKXAck(id, "cancel-order", cid, "9000")}
		}
		return nil
	})
	return o
}

func (o *s30ctOKX) start(t *testing.T, execs *s30ctExecs, states *s30ctStates) *session.Session {
	t.Helper()
	cfg := session.Config{
		Venue:        schema.VenueOKX,
		Endpoints:    session.Endpoints{Stream: o.ws("/ws/v5/public"), API: o.ws("/ws/v5/private"), REST: o.srv.URL},
		Symbols:      []string{"BTC-USDT"},
		Channels:     []string{"trades"},
		Key:          &session.OKXKey{APIKey: "okx-key", Passphrase: "okx-pass", Secret: []byte("okx-secret")},
		NoClockSync:  true,
		Client:       s30ctFast(),
		OnExecReport: execs.on,
	}
	if states != nil {
		cfg.OnState = states.on
	}
	if o.clock != nil {
		cfg.Client.Clock = o.clock
	}
	s, err := session.Start(context.Background(), cfg)
	require.NoError(t, err)
	execs.returnTo(s.Pools())
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	return s
}

func s30ctOKXOrder(t *testing.T, s *session.Session, cid string) *schema.OrderRequest {
	req := s27ctOrder(t, s, cid)
	req.Venue, req.Price = schema.VenueOKX, schema.MustParseDecimal("1000.1")
	return req
}

// An OKX order's life as the "Order channel" tells it: placed and acked
// (code 0, sCode 0: an Ack with the ordId), live, partially filled,
// filled — one report each, in order, with the venue's cumulative
// quantity and each fill's; a second order canceled (its cancel acked,
// then state canceled); a third refused by the venue (code 1, sCode 51008
// "Order failed. Insufficient USDT balance in account."): a *VenueError
// with the order's sCode and sMsg (session doc "Orders by venue": "a
// non-zero sCode (code 0, 1 or 2 alike) is a [*VenueError] with sCode
// and sMsg").
func TestS30ctOKXOrderLifecycle(t *testing.T) {
	o := newS30ctOKX(t)
	execs := newS30ctExecs()
	s := o.start(t, execs, nil)
	ctx := s31ctConnected(t, s)

	o.mu.Lock()
	o.order = func(c *s30ctConn, id, cid string) []string {
		switch cid {
		case "s30okxA":
			return []string{s30ctOKXAck(id, "order", cid, "9001"),
				s30ctOKXOrderPush(cid, "9001", "live", "0", "0", "", ""),
				s30ctOKXOrderPush(cid, "9001", "partially_filled", "0.2", "0.2", "11", "1000.1"),
				s30ctOKXOrderPush(cid, "9001", "filled", "0.3", "0.5", "12", "1000.0")}
		case "s30okxB":
			return []string{s30ctOKXAck(id, "order", cid, "9002"), s30ctOKXOrderPush(cid, "9002", "live", "0", "0", "", "")}
		default:
			return []string{fmt.Sprintf(`{"id":%q,"op":"order","code":"1","msg":"","data":[{"clOrdId":%q,"ordId":"","tag":"","ts":"1695190491421","sCode":"51008","sMsg":"Order failed. Insufficient USDT balance in account."}],"inTime":"1695190491421339","outTime":"1695190491423240"}`, id, cid)}
		}
	}
	o.cancel = func(c *s30ctConn, id, cid string) []string {
		return []string{s30ctOKXAck(id, "cancel-order", cid, "9002"), s30ctOKXOrderPush(cid, "9002", "canceled", "0", "0", "", "")}
	}
	o.mu.Unlock()

	req := s30ctOKXOrder(t, s, "s30okxA")
	ack, err := s.Place(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, "9001", ack.VenueOrderID.String())
	got := execs.wait(t, "s30okxA", "", func(x []schema.Execution) bool {
		return len(x) > 0 && x[len(x)-1].Status == schema.StatusFilled
	}, "order A filled")
	require.Len(t, got, 3, "live, partially filled, filled: one report each")
	assert.Equal(t, []schema.OrderStatus{schema.StatusNew, schema.StatusPartiallyFilled, schema.StatusFilled},
		[]schema.OrderStatus{got[0].Status, got[1].Status, got[2].Status})
	assert.Equal(t, "0.2", got[1].LastFillQty.String())
	assert.Equal(t, "0.2", got[1].CumFillQty.String())
	assert.Equal(t, "11", got[1].TradeID.String())
	assert.Equal(t, "0.3", got[2].LastFillQty.String())
	assert.Equal(t, "0.5", got[2].CumFillQty.String())
	assert.Equal(t, "1000.0", got[2].LastFillPrice.String())
	assert.Equal(t, "12", got[2].TradeID.String())
	for _, x := range got {
		assert.Equal(t, "9001", x.VenueOrderID.String())
		assert.False(t, x.Reconciled, "streamed, not reconciled")
	}

	s.Pools().Orders.Put(req)
	req = s30ctOKXOrder(t, s, "s30okxB")
	_, err = s.Place(ctx, req)
	require.NoError(t, err)
	req.Reset()
	req.Venue, req.Symbol, req.OrigClientOrderID = schema.VenueOKX, "BTC-USDT", schema.MustID("s30okxB")
	_, err = s.Cancel(ctx, req)
	require.NoError(t, err)
	execs.wait(t, "s30okxB", "", func(x []schema.Execution) bool {
		return len(x) == 2 && x[1].Status == schema.StatusCanceled
	}, "order B canceled")

	s.Pools().Orders.Put(req)
	req = s30ctOKXOrder(t, s, "s30okxC")
	_, err = s.Place(ctx, req)
	var ve *session.VenueError
	require.True(t, errors.As(err, &ve), "a refusal is a *VenueError: %v", err)
	assert.EqualValues(t, 51008, ve.Code)
	assert.Contains(t, ve.Msg, "Insufficient USDT balance")
	s.Pools().Orders.Put(req)
	assert.Empty(t, execs.of("s30okxC", ""), "a refused place has no execution report")
}

// OKX "WebSocket → Login" failures: {"event":"error","code":"60009",
// "msg":"Login failed.",...} (and 60024 "Wrong passphrase", 60006
// "Timestamp request expired"). WaitConnected returns a *LoginError of
// Step "login" with the venue's code and message; the login is tried
// again after the backoff ("never in a hot loop"), and once the venue
// takes it, WaitConnected returns nil and orders go.
func TestS30ctOKXLoginRefusals(t *testing.T) {
	for _, tc := range []struct {
		code int64
		msg  string
	}{{60009, "Login failed."}, {60024, "Wrong passphrase"}, {60006, "Timestamp request expired"}} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			o := newS30ctOKX(t)
			var mu sync.Mutex
			refuse := true
			o.login = func(c *s30ctConn) []string {
				mu.Lock()
				defer mu.Unlock()
				if refuse {
					return []string{fmt.Sprintf(`{"event":"error","code":"%d","msg":%q,"connId":"a4d3ae55"}`, tc.code, tc.msg)}
				}
				return []string{`{"event":"login","code":"0","msg":"","connId":"a4d3ae55"}`}
			}
			execs := newS30ctExecs()
			s := o.start(t, execs, nil)
			ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
			defer cancel()
			err := s.WaitConnected(ctx)
			var le *session.LoginError
			require.True(t, errors.As(err, &le), "WaitConnected: a *LoginError: %v", err)
			assert.Equal(t, "login", le.Step)
			assert.Equal(t, tc.code, le.Code)
			assert.Equal(t, tc.msg, le.Msg)
			// Tried again: a second login reaches the venue.
			o.await("/ws/v5/private", func(s string) bool { return strings.Contains(s, `"op":"login"`) })
			o.await("/ws/v5/private", func(s string) bool { return strings.Contains(s, `"op":"login"`) })
			mu.Lock()
			refuse = false
			mu.Unlock()
			require.Eventually(t, func() bool { return s.WaitConnected(ctx) == nil }, s27ctWait, 0x100000, "logged in once the venue takes it")
			req := s30ctOKXOrder(t, s, "s30okxL")
			_, err = s.Place(ctx, req)
			require.NoError(t, err)
			s.Pools().Orders.Put(req)
		})
	}
}

func s30ctOKXRestOrder(cid, ordID, state, accFillSz string) string {
	return fmt.Sprintf(`{"instType":"SPOT","instId":"BTC-USDT","tgtCcy":"","ccy":"","ordId":%q,"clOrdId":%q,"tag":"","px":"1000.1","pxUsd":"","pxVol":"","pxType":"","sz":"0.5","pnl":"0","ordType":"limit","side":"buy","posSide":"net","tdMode":"cash","accFillSz":%q,"fillPx":"1000.1","tradeId":"22","fillSz":"0.3","fillTime":"1695190492000","avgPx":"1000.1","state":%q,"stpId":"","stpMode":"","lever":"","attachAlgoClOrdId":"","tpTriggerPx":"","tpTriggerPxType":"","tpOrdPx":"","slTriggerPx":"","slTriggerPxType":"","slOrdPx":"","feeCcy":"BTC","fee":"-0.0005","rebateCcy":"USDT","source":"","rebate":"0","category":"normal","reduceOnly":"false","isTpLimit":"false","cancelSource":"","cancelSourceReason":"","quickMgnType":"","algoClOrdId":"","algoId":"","uTime":"1695190492000","cTime":"1695190491421"}`, ordID, cid, accFillSz, state)
}

func s30ctOKXRestFill(cid, ordID, tradeID, billID, sz string) string {
	return fmt.Sprintf(`{"instType":"SPOT","instId":"BTC-USDT","tradeId":%q,"ordId":%q,"clOrdId":%q,"billId":%q,"subType":"1","tag":"","fillPx":"1000.1","fillSz":%q,"fillIdxPx":"","fillPnl":"0","fillPxVol":"","fillPxUsd":"","fillMarkVol":"","fillFwdPx":"","fillMarkPx":"","side":"buy","posSide":"net","execType":"M","feeCcy":"BTC","fee":"-0.0001","ts":"1695190492000","fillTime":"1695190492000","feeRate":"-0.001"}`, tradeID, ordID, cid, billID, sz)
}

// The venue closes the private connection in the middle of an order's
// life. (1) An order acked and partially filled (tradeId 21, streamed),
// then the connection is cut; the rest fills (tradeId 22) while it is
// down. The session reconnects, logs in anew, subscribes, and its
// reconciliation (session doc "Execution reports across reconnects")
// delivers the fill the stream missed once, Reconciled, with the venue's
// trade id and the order's end (Filled, CumFillQty 0.5), and never
// tradeId 21 again. (2) An order sent and the connection cut before its
// answer: Place returns ErrDisconnected ("the outcome is then unknown");
// the venue had filled it (tradeId 31); the next pass looks it up by its
// clOrdId and the host gets its fill, Reconciled. The host is told of
// each loss: the order connection's Disconnected and Connected states.
func TestS30ctOKXConnectionClosedMidOrder(t *testing.T) {
	o := newS30ctOKX(t)
	execs := newS30ctExecs()
	states := &s30ctStates{}
	s := o.start(t, execs, states)
	ctx := s31ctConnected(t, s)

	o.mu.Lock()
	o.order = func(c *s30ctConn, id, cid string) []string {
		switch cid {
		case "s30okxE":
			return []string{s30ctOKXAck(id, "order", cid, "9021"),
				s30ctOKXOrderPush(cid, "9021", "partially_filled", "0.2", "0.2", "21", "1000.1")}
		default: // s30okxF: taken and filled, but the answer never sent
			o.mu.Lock()
			defer o.mu.Unlock()
			o.restOrder[cid] = s30ctOKXRestOrder(cid, "9031", "filled", "0.5")
			o.restFills["9031"] = s30ctOKXRestFill(cid, "9031", "31", "8031", "0.5")
			c.cut()
			return nil
		}
	}
	o.mu.Unlock()

	// (1)
	req := s30ctOKXOrder(t, s, "s30okxE")
	_, err := s.Place(ctx, req)
	require.NoError(t, err)
	s.Pools().Orders.Put(req)
	execs.wait(t, "s30okxE", "", func(x []schema.Execution) bool { return len(x) == 1 }, "the streamed partial fill")
	o.mu.Lock()
	o.restOrder["s30okxE"] = s30ctOKXRestOrder("s30okxE", "9021", "filled", "0.5")
	// newest first (OKX "Get transaction details")
	o.restFills["9021"] = s30ctOKXRestFill("s30okxE", "9021", "22", "8022", "0.3") + "," + s30ctOKXRestFill("s30okxE", "9021", "21", "8021", "0.2")
	o.mu.Unlock()
	o.conn("/ws/v5/private", 1).cut()
	got := execs.wait(t, "s30okxE", "", func(x []schema.Execution) bool {
		return len(x) >= 2 && x[len(x)-1].Status == schema.StatusFilled
	}, "the missed fill, reconciled")
	require.NoError(t, s.WaitConnected(ctx))
	require.Len(t, got, 2, "the streamed fill and the reconciled one, each once: %+v", got)
	assert.True(t, got[1].Reconciled)
	assert.Equal(t, "22", got[1].TradeID.String())
	assert.Equal(t, "0.3", got[1].LastFillQty.String())
	assert.Equal(t, "0.5", got[1].CumFillQty.String())
	assert.GreaterOrEqual(t, states.count(schema.ConnDisconnected), 1, "the host is told of the loss")
	assert.GreaterOrEqual(t, states.count(schema.ConnConnected), 2, "and of the reconnect")
	require.GreaterOrEqual(t, o.opened("/ws/v5/private"), 2)

	// (2)
	req = s30ctOKXOrder(t, s, "s30okxF")
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.ErrorIs(t, err, session.ErrDisconnected)
	got = execs.wait(t, "s30okxF", "", func(x []schema.Execution) bool {
		return len(x) >= 1 && x[len(x)-1].Status == schema.StatusFilled
	}, "an order whose answer was lost, looked up by its clOrdId")
	require.Len(t, got, 1, "%+v", got)
	assert.True(t, got[0].Reconciled)
	assert.Equal(t, "31", got[0].TradeID.String())
	assert.Equal(t, "9031", got[0].VenueOrderID.String())
	assert.Len(t, execs.of("s30okxE", ""), 2, "nothing of order E twice")
}

// OKX notice 64008 on the private connection ("The connection will soon
// be closed for a service upgrade"): session doc — orders wait from the
// notice on (none goes out on the connection about to close), a new
// connection is dialled at once while the old one still delivers the
// answers of the requests in flight (a wsclient rotation, switched half a
// second after the new connection's first message), then the session
// logs in and subscribes on the new one. An order in flight when the
// notice comes gets its Ack from the old connection (answered here once
// the new connection's ping arrived, before the switch); an order placed
// after the notice goes on the new connection only.
func TestS30ctOKXNoticeMidOrder(t *testing.T) {
	s30ctOKXNotice(t, func(o *s30ctOKX) {
		// the new connection's first request: its login (s30rvsess: the
		// rotation's Prepare; before s30sess, a ping)
		for m := o.await("/ws/v5/private", func(s string) bool { return strings.Contains(s, `"op":"login"`) }); m.conn.n != 2; {
			m = o.await("/ws/v5/private", func(s string) bool { return strings.Contains(s, `"op":"login"`) })
		}
	})
}

// The same with the venue's answer coming after the new connection is
// logged in and subscribed: the venue has not closed the old connection
// (OKX sends the notice 60 s before the close: "Notification of service
// upgrade"), the answer is on its way on it. The session's switch (its
// rotation's Prepare) waits for the answers due on the old connection
// (session doc, "Connection lifetimes"): the Place gets the venue's
// answer, not ErrDisconnected, and the order placed after the notice goes
// on the new connection once the answer is in. (Written by s30ct for the
// earlier ping trick; s30rvsess awaits the new connection's subscription
// instead, then lets 2 s pass on the session's clock — before s30rvsess
// the switch closed the old connection right after the subscription's
// answer.)
func TestS30ctOKXNoticeAnswerAfterSwitch(t *testing.T) {
	s30ctOKXNotice(t, func(o *s30ctOKX) {
		for m := o.await("/ws/v5/private", func(s string) bool { return strings.Contains(s, `"op":"subscribe"`) }); m.conn.n != 2; {
			m = o.await("/ws/v5/private", func(s string) bool { return strings.Contains(s, `"op":"subscribe"`) })
		}
		// the new connection is ready; its time passes (the old
		// connection is still the venue's, the answer not sent yet)
		n := 0
		require.Eventually(t, func() bool {
			o.clock.Advance(100 * time.Millisecond)
			n++
			return n >= 20
		}, s27ctWait, time.Millisecond)
	})
}

// s30ctOKXNotice: order N1 is answered by a 64008 notice; order N2 is
// placed after it; wait returns when the held answer of N1 is to be sent
// on the old connection.
func s30ctOKXNotice(t *testing.T, wait func(*s30ctOKX)) {
	o := newS30ctOKX(t)
	o.clock = newS27ctClock() // the switch's half second passes only when the test says
	execs := newS30ctExecs()
	s := o.start(t, execs, nil)
	ctx := s31ctConnected(t, s)
	heldID := make(chan string, 1)
	o.mu.Lock()
	o.order = func(c *s30ctConn, id, cid string) []string {
		if cid == "s30okxN1" {
			heldID <- id
			return []string{`{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"}`}
		}
		return []string{s30ctOKXAck(id, "order", cid, "9102")}
	}
	o.mu.Unlock()

	first := make(chan error, 1)
	go func() {
		req := s30ctOKXOrder(t, s, "s30okxN1")
		ack, err := s.Place(ctx, req)
		s.Pools().Orders.Put(req)
		if err == nil && ack.VenueOrderID.String() != "9101" {
			err = fmt.Errorf("ack of %s", ack.VenueOrderID)
		}
		first <- err
	}()
	id := <-heldID
	require.Eventually(t, func() bool { return o.opened("/ws/v5/private") == 2 }, s27ctWait, 0x100000, "a new connection dialled on the notice")
	second := make(chan error, 1)
	go func() {
		req := s30ctOKXOrder(t, s, "s30okxN2")
		_, err := s.Place(ctx, req)
		s.Pools().Orders.Put(req)
		second <- err
	}()
	wait(o)
	c1 := o.conn("/ws/v5/private", 1)
	werr := c1.c.Write(c1.ctx, websocket.MessageText, []byte(s30ctOKXAck(id, "order", "s30okxN1", "9101")))
	require.NoError(t, <-first, "the order in flight is answered on the old connection (the answer's write: %v)", werr)
	var err2 error
	require.Eventually(t, func() bool {
		o.clock.Advance(100 * time.Millisecond) // the switch, after its half second
		select {
		case err2 = <-second:
			return true
		default:
			return false
		}
	}, s27ctWait, time.Millisecond, "the order after the notice is sent once the new connection is up")
	require.NoError(t, err2)
	n2 := o.find("/ws/v5/private", func(s string) bool { return strings.Contains(s, `"s30okxN2"`) })
	require.Len(t, n2, 1)
	assert.Equal(t, 2, n2[0].conn.n, "an order after the notice goes on the new connection")
}

// Config.OnExecReport "may hold at most schema.CapExecReport (20) at
// once: past that, the next report waits (none is dropped …) until one is
// Put back". A host holds every report it gets while the venue streams 25
// fills of an order: it gets 20, then one more for each it Puts back, and
// in the end all 25, in order, none twice.
func TestS30ctOnExecReportHoldsAtMost20(t *testing.T) {
	o := newS30ctOKX(t)
	var mu sync.Mutex
	var held []*schema.ExecReport
	var ids []string
	maxHeld := 0
	execs := newS30ctExecs()
	s := o.start(t, execs, nil)
	execs.mu.Lock()
	execs.pools = nil // this test Puts them itself
	execs.mu.Unlock()
	hold := func(r *schema.ExecReport) {
		mu.Lock()
		defer mu.Unlock()
		held = append(held, r)
		ids = append(ids, r.TradeID.String())
		maxHeld = max(maxHeld, len(held))
	}
	execs.mu.Lock()
	execs.hook = hold
	execs.mu.Unlock()
	ctx := s31ctConnected(t, s)
	const n = 25
	o.mu.Lock()
	o.order = func(c *s30ctConn, id, cid string) []string {
		out := []string{s30ctOKXAck(id, "order", cid, "9201")}
		for i := 1; i <= n; i++ {
			state := "partially_filled"
			if i == n {
				state = "filled"
			}
			out = append(out, s30ctOKXOrderPush(cid, "9201", state, "0.02", fmt.Sprintf("%.2f", 0.02*float64(i)), fmt.Sprint(1000+i), "1000.1"))
		}
		return out
	}
	o.mu.Unlock()
	req := s30ctOKXOrder(t, s, "s30okxHold")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(ids) }
	require.Eventually(t, func() bool { return count() == schema.CapExecReport }, s27ctWait, time.Millisecond)
	mu.Lock()
	s.Pools().Execs.Put(held[0])
	held = held[1:]
	mu.Unlock()
	require.Eventually(t, func() bool { return count() == schema.CapExecReport+1 }, s27ctWait, time.Millisecond, "one more for the one Put back")
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range held {
			s.Pools().Execs.Put(r)
		}
		held = held[:0]
		return len(ids) == n
	}, s27ctWait, time.Millisecond, "the rest as they are Put back")
	mu.Lock()
	defer mu.Unlock()
	for _, r := range held {
		s.Pools().Execs.Put(r)
	}
	held = nil
	assert.LessOrEqual(t, maxHeld, schema.CapExecReport)
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprint(1001 + i)
	}
	assert.Equal(t, want, ids, "every fill once, in order")
}

// After OKX's notice 64008, should no new connection be had: session doc
// — "Should no new connection be had, …, the old connection stays and
// orders go on it again; wsclient tries again after its backoff": the
// old connection, still open and logged in, takes the orders that
// waited. (s30ct wrote it for the doc before s30sess, which logged in
// again on it; s30rvsess checks the doc of now.)
func TestS30ctOKXNoticeNoNewConnection(t *testing.T) {
	o := newS30ctOKX(t)
	execs := newS30ctExecs()
	s := o.start(t, execs, nil)
	ctx := s31ctConnected(t, s)
	c1 := o.conn("/ws/v5/private", 1)
	dials := o.dials("/ws/v5/private")
	o.refuseDials("/ws/v5/private", true)
	c1.send(`{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"}`)
	require.Eventually(t, func() bool { return o.dials("/ws/v5/private") > dials }, s27ctWait, 0x100000, "a new connection tried")
	req := s30ctOKXOrder(t, s, "s30okxOld")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err, "the order goes on the old connection")
	got := o.find("/ws/v5/private", func(s string) bool { return strings.Contains(s, `"s30okxOld"`) })
	require.Len(t, got, 1)
	assert.Equal(t, 1, got[0].conn.n)
	logins := o.find("/ws/v5/private", func(s string) bool { return strings.Contains(s, `"op":"login"`) })
	require.Len(t, logins, 1, "the old connection is still logged in: no second login (s30sess: the rotation's Prepare sets its state aside and puts it back)")
	assert.Equal(t, 1, logins[0].conn.n)
}
