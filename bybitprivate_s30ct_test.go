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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// Bybit v5 loopback, from Bybit's docs: "WebSocket Connect" (private
// auth answer {"success":true,"ret_msg":"","op":"auth","conn_id":…};
// subscribe answer {"success":true,"ret_msg":"","conn_id":…,"req_id":…,
// "op":"subscribe"}; ping {"op":"ping"} answered with op "pong"),
// "WebSocket Trade Guideline" (auth answer {"retCode":0,"retMsg":"OK",
// "op":"auth","connId":…}, 10004 invalid sign; order.create answer
// {"reqId","retCode","retMsg","op","data":{orderId,orderLinkId},"header",
// "connId"}), "Private → Order" and "Execution" pushes, "Get Open &
// Closed Orders", "Get Trade History".
const s30ctBybitInstruments = `{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[{"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT","innovation":"0","status":"Trading","marginTrading":"both","lotSizeFilter":{"basePrecision":"0.000001","quotePrecision":"0.00000001","minOrderQty":"0.000048","maxOrderQty":"71.73956243","minOrderAmt":"1","maxOrderAmt":"2000000"},"priceFilter":{"tickSize":"0.01"}}],"nextPageCursor":""},"retExtInfo":{},"time":1711001595209}`

type s30ctBybit struct {
	*s30ctPeer
	mu        sync.Mutex
	create    func(c *s30ctConn, reqID, linkID string) []string
	cancelF   func(c *s30ctConn, reqID, linkID string) []string
	auth      func() string // private auth answer; "" = success
	tradeAuth func() string // trade auth answer; "" = success
	restOrder map[string]string
	restExecs map[string]string
}

func s30ctBybitAnswer(reqID, op string, code int, msg, orderID, linkID string) string {
	data := "{}"
	if code == 0 {
		data = fmt.Sprintf(`{"orderId":%q,"orderLinkId":%q}`, orderID, linkID)
	}
	return fmt.Sprintf(`{"reqId":%q,"retCode":%d,"retMsg":%q,"op":%q,"data":%s,"header":{"X-Bapi-Limit":"20","X-Bapi-Limit-Status":"19","X-Bapi-Limit-Reset-Timestamp":"1711001595207","Traceid":"77ae6d3b9e6bb47c3e2c4b2f1d0b6f11","Timenow":"1711001595209"},"connId":"cnt5leec0hvan15eukcg-2t"}`, reqID, code, msg, op, data)
}

// s30ctBybitOrderPush is an "order" topic push of one spot order.
func s30ctBybitOrderPush(linkID, orderID, status, cumQty, leaves string) string {
	return fmt.Sprintf(`{"id":"5923240c6880ab-c59f-420b-9adb-3639adc9dd90","topic":"order","creationTime":1672364262474,"data":[{"category":"spot","symbol":"BTCUSDT","orderId":%q,"side":"Buy","orderType":"Limit","cancelType":"UNKNOWN","price":"1000.1","qty":"0.5","orderIv":"","timeInForce":"GTC","orderStatus":%q,"orderLinkId":%q,"lastPriceOnCreated":"","reduceOnly":false,"leavesQty":%q,"leavesValue":"","cumExecQty":%q,"cumExecValue":"0","avgPrice":"1000.1","blockTradeId":"","positionIdx":0,"cumExecFee":"0","closedPnl":"0","createdTime":"1672364262444","updatedTime":"1672364262457","rejectReason":"EC_NoError","stopOrderType":"","tpslMode":"","triggerPrice":"","takeProfit":"","stopLoss":"","tpTriggerBy":"","slTriggerBy":"","tpLimitPrice":"","slLimitPrice":"","triggerDirection":0,"triggerBy":"","closeOnTrigger":false,"placeType":"","smpType":"None","smpGroup":0,"smpOrderId":"","feeCurrency":"BTC"}]}`,
		orderID, status, linkID, leaves, cumQty)
}

// s30ctBybitExecPush is an "execution" topic push of one spot fill.
func s30ctBybitExecPush(linkID, orderID, execID, qty, leaves string) string {
	return fmt.Sprintf(`{"id":"592324803b2785-26fa-4214-9963-bdd4727f07be","topic":"execution","creationTime":1672364174455,"data":[{"category":"spot","symbol":"BTCUSDT","execFee":"0.0001","execId":%q,"execPrice":"1000.1","execQty":%q,"execType":"Trade","execValue":"100","isMaker":true,"feeRate":"0.001","tradeIv":"","markIv":"","blockTradeId":"","markPrice":"","indexPrice":"","underlyingPrice":"","leavesQty":%q,"orderId":%q,"orderLinkId":%q,"orderPrice":"1000.1","orderQty":"0.5","orderType":"Limit","stopOrderType":"","side":"Buy","execTime":"1672364174443","isLeverage":"0","closedSize":"","seq":4688002127,"feeCurrency":"BTC"}]}`,
		execID, qty, leaves, orderID, linkID)
}

func newS30ctBybit(t *testing.T) *s30ctBybit {
	b := &s30ctBybit{s30ctPeer: newS30ctPeer(t), restOrder: map[string]string{}, restExecs: map[string]string{}}
	b.rest("/v5/market/instruments-info", func(*http.Request) string { return s30ctBybitInstruments })
	list := func(items string) string {
		return `{"retCode":0,"retMsg":"OK","result":{"list":[` + items + `],"nextPageCursor":"","category":"spot"},"retExtInfo":{},"time":1672364262474}`
	}
	orders := func(r *http.Request) string {
		b.mu.Lock()
		defer b.mu.Unlock()
		q := r.URL.Query()
		if q.Get("openOnly") == "0" && q.Get("orderId") == "" && q.Get("orderLinkId") == "" {
			return list("")
		}
		for _, d := range b.restOrder {
			if (q.Get("orderLinkId") != "" && strings.Contains(d, `"orderLinkId":"`+q.Get("orderLinkId")+`"`)) ||
				(q.Get("orderId") != "" && strings.Contains(d, `"orderId":"`+q.Get("orderId")+`"`)) {
				return list(d)
			}
		}
		return list("")
	}
	b.rest("/v5/order/realtime", orders)
	b.rest("/v5/order/history", orders)
	b.rest("/v5/execution/list", func(r *http.Request) string {
		b.mu.Lock()
		defer b.mu.Unlock()
		if r.URL.Query().Get("cursor") != "" {
			return list("")
		}
		return list(b.restExecs[r.URL.Query().Get("orderId")])
	})
	b.rest("/v5/", func(*http.Request) string {
		return `{"retCode":0,"retMsg":"OK","result":{"list":[]},"retExtInfo":{},"time":1}`
	})
	public := func(c *s30ctConn, text string) []string {
		m := s28ctJSON(t, []byte(text))
		rid, _ := m["req_id"].(string)
		switch m["op"] {
		case "ping":
			return []string{fmt.Sprintf(`{"success":true,"ret_msg":"pong","conn_id":"c1","req_id":%q,"op":"ping"}`, rid)}
		case "subscribe":
			return []string{fmt.Sprintf(`{"success":true,"ret_msg":"","conn_id":"c1","req_id":%q,"op":"subscribe"}`, rid)}
		}
		return nil
	}
	b.handle("/v5/public/spot", public)
	b.handle("/v5/private", func(c *s30ctConn, text string) []string {
		m := s28ctJSON(t, []byte(text))
		rid, _ := m["req_id"].(string)
		switch m["op"] {
		case "ping":
			return []string{fmt.Sprintf(`{"req_id":%q,"op":"pong","args":["1672364262474"],"conn_id":"c2"}`, rid)}
		case "auth":
			b.mu.Lock()
			f := b.auth
			b.mu.Unlock()
			if f != nil {
				if a := f(); a != "" {
					return []string{a}
				}
			}
			return []string{fmt.Sprintf(`{"success":true,"ret_msg":"","op":"auth","conn_id":"c2","req_id":%q}`, rid)}
		case "subscribe":
			return []string{fmt.Sprintf(`{"success":true,"ret_msg":"","conn_id":"c2","req_id":%q,"op":"subscribe"}`, rid)}
		}
		return nil
	})
	b.handle("/v5/trade", func(c *s30ctConn, text string) []string {
		m := s28ctJSON(t, []byte(text))
		rid, _ := m["reqId"].(string)
		switch m["op"] {
		case "ping":
			return []string{fmt.Sprintf(`{"retCode":0,"retMsg":"OK","op":"pong","data":["1711001595209"],"connId":"c3","reqId":%q}`, rid)}
		case "auth":
			b.mu.Lock()
			f := b.tradeAuth
			b.mu.Unlock()
			if f != nil {
				if a := f(); a != "" {
					return []string{a}
				}
			}
			return []string{`{"retCode":0,"retMsg":"OK","op":"auth","connId":"c3"}`}
		case "order.create":
			a := m["args"].([]any)[0].(map[string]any)
			link, _ := a["orderLinkId"].(string)
			b.mu.Lock()
			f := b.create
			b.mu.Unlock()
			if f != nil {
				return f(c, rid, link)
			}
			return []string{s30ctBybitAnswer(rid, "order.create", 0, "OK", "1321003749386327552", link)}
		case "order.cancel":
			a := m["args"].([]any)[0].(map[string]any)
			link, _ := a["orderLinkId"].(string)
			b.mu.Lock()
			f := b.cancelF
			b.mu.Unlock()
			if f != nil {
				return f(c, rid, link)
			}
			return []string{s30ctBybitAnswer(rid, "order.cancel", 0, "OK", "1321003749386327552", link)}
		}
		return nil
	})
	return b
}

func (b *s30ctBybit) start(t *testing.T, execs *s30ctExecs, states *s30ctStates) *session.Session {
	t.Helper()
	cfg := session.Config{
		Venue: schema.VenueBybit,
		Endpoints: session.Endpoints{Stream: b.ws("/v5/public/spot"), API: b.ws("/v5/private"),
			Trade: b.ws("/v5/trade"), REST: b.srv.URL},
		Symbols:      []string{"BTC-USDT"},
		Channels:     []string{"publicTrade"},
		Key:          &session.BybitKey{APIKey: "bybit-key", Secret: []byte("bybit-secret")},
		NoClockSync:  true,
		Client:       s30ctFast(),
		OnExecReport: execs.on,
	}
	if states != nil {
		cfg.OnState = states.on
	}
	s, err := session.Start(context.Background(), cfg)
	require.NoError(t, err)
	execs.returnTo(s.Pools())
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	return s
}

func s30ctBybitOrder(t *testing.T, s *session.Session, cid string) *schema.OrderRequest {
	req := s27ctOrder(t, s, cid)
	req.Venue, req.Price = schema.VenueBybit, schema.MustParseDecimal("1000.1")
	return req
}

// fills returns the fill reports (ExecTrade) among x.
func s30ctFills(x []schema.Execution) []schema.Execution {
	var out []schema.Execution
	for _, e := range x {
		if e.ExecType == schema.ExecTrade {
			out = append(out, e)
		}
	}
	return out
}

// A Bybit spot order's life: order.create answered retCode 0 (an Ack with
// data.orderId); the "order" topic says New, then PartiallyFilled and
// Filled, the "execution" topic brings each fill (execId, execQty,
// leavesQty): each fill reaches the host once, as a fill report with the
// venue's execId, and the order ends Filled. A create refused with
// retCode 170131 ("Insufficient balance.", Bybit v5 "Error Codes →
// Spot") is a *VenueError with that code and message, and no report.
func TestS30ctBybitOrderLifecycle(t *testing.T) {
	b := newS30ctBybit(t)
	execs := newS30ctExecs()
	s := b.start(t, execs, nil)
	ctx := s31ctConnected(t, s)

	b.mu.Lock()
	b.create = func(c *s30ctConn, rid, link string) []string {
		if link == "s30bybR" {
			return []string{s30ctBybitAnswer(rid, "order.create", 170131, "Insufficient balance.", "", link)}
		}
		priv := b.conn("/v5/private", b.opened("/v5/private"))
		go func() {
			priv.send(s30ctBybitOrderPush(link, "7001", "New", "0", "0.5"))
			priv.send(s30ctBybitExecPush(link, "7001", "e1a2b3c4-0000-4000-8000-000000000001", "0.2", "0.3"))
			priv.send(s30ctBybitOrderPush(link, "7001", "PartiallyFilled", "0.2", "0.3"))
			priv.send(s30ctBybitExecPush(link, "7001", "e1a2b3c4-0000-4000-8000-000000000002", "0.3", "0"))
			priv.send(s30ctBybitOrderPush(link, "7001", "Filled", "0.5", "0"))
		}()
		return []string{s30ctBybitAnswer(rid, "order.create", 0, "OK", "7001", link)}
	}
	b.mu.Unlock()

	req := s30ctBybitOrder(t, s, "s30bybA")
	ack, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	assert.Equal(t, "7001", ack.VenueOrderID.String())
	got := execs.wait(t, "s30bybA", "", func(x []schema.Execution) bool {
		return len(x) >= 5
	}, "five reports: New, two fills, PartiallyFilled, Filled")
	fills := s30ctFills(got)
	require.Len(t, fills, 2, "each fill once: %+v", got)
	assert.Equal(t, "e1a2b3c4-0000-4000-8000-000000000001", fills[0].TradeID.String())
	assert.Equal(t, "0.2", fills[0].LastFillQty.String())
	assert.Equal(t, "0.2", fills[0].CumFillQty.String())
	assert.Equal(t, schema.StatusPartiallyFilled, fills[0].Status)
	assert.Equal(t, "0.3", fills[1].LastFillQty.String())
	assert.Equal(t, "0.5", fills[1].CumFillQty.String())
	assert.Equal(t, schema.StatusFilled, fills[1].Status)
	assert.Equal(t, schema.StatusNew, got[0].Status)
	assert.Equal(t, schema.StatusFilled, got[len(got)-1].Status)

	req = s30ctBybitOrder(t, s, "s30bybR")
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	var ve *session.VenueError
	require.True(t, errors.As(err, &ve), "%v", err)
	assert.EqualValues(t, 170131, ve.Code)
	assert.Equal(t, "Insufficient balance.", ve.Msg)
	assert.Empty(t, execs.of("s30bybR", ""))
}

// Bybit auth refusals on each connection: the private one's
// {"success":false,"ret_msg":"Params Error","op":"auth",...} and the trade
// one's {"retCode":10004,"retMsg":"Invalid sign","op":"auth",...} ("10004:
// invalid sign"). Each is a *LoginError (Step "login", resp. "trade
// login" with Code 10004) from WaitConnected, tried again after the
// backoff; once the venue takes them, orders go.
func TestS30ctBybitAuthRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, step string
		code       int64
		private    bool
	}{{"private", "login", 0, true}, {"trade", "trade login", 10004, false}} {
		t.Run(tc.name, func(t *testing.T) {
			b := newS30ctBybit(t)
			var mu sync.Mutex
			refuse := true
			f := func(answer string) func() string {
				return func() string {
					mu.Lock()
					defer mu.Unlock()
					if refuse {
						return answer
					}
					return ""
				}
			}
			if tc.private {
				b.auth = f(`{"success":false,"ret_msg":"Params Error","op":"auth","conn_id":"c2"}`)
			} else {
				b.tradeAuth = f(`{"retCode":10004,"retMsg":"Invalid sign","op":"auth","connId":"c3"}`)
			}
			execs := newS30ctExecs()
			s := b.start(t, execs, nil)
			ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
			defer cancel()
			var le *session.LoginError
			require.Eventually(t, func() bool {
				return errors.As(s.WaitConnected(ctx), &le)
			}, s27ctWait, 0x100000, "WaitConnected returns the refusal")
			assert.Equal(t, tc.step, le.Step)
			assert.Equal(t, tc.code, le.Code)
			path := "/v5/trade"
			if tc.private {
				path = "/v5/private"
				assert.Equal(t, "Params Error", le.Msg)
			} else {
				assert.Equal(t, "Invalid sign", le.Msg)
			}
			b.await(path, func(s string) bool { return strings.Contains(s, `"op":"auth"`) })
			b.await(path, func(s string) bool { return strings.Contains(s, `"op":"auth"`) })
			mu.Lock()
			refuse = false
			mu.Unlock()
			require.Eventually(t, func() bool { return s.WaitConnected(ctx) == nil }, s27ctWait, 0x100000)
			req := s30ctBybitOrder(t, s, "s30bybL")
			_, err := s.Place(ctx, req)
			s.Pools().Orders.Put(req)
			require.NoError(t, err)
		})
	}
}

func s30ctBybitRestOrder(linkID, orderID, status, cumQty, leaves string) string {
	return fmt.Sprintf(`{"orderId":%q,"orderLinkId":%q,"blockTradeId":"","symbol":"BTCUSDT","price":"1000.1","qty":"0.5","side":"Buy","isLeverage":"0","positionIdx":0,"orderStatus":%q,"cancelType":"UNKNOWN","rejectReason":"EC_NoError","avgPrice":"1000.1","leavesQty":%q,"leavesValue":"0","cumExecQty":%q,"cumExecValue":"500.05","cumExecFee":"0.0005","timeInForce":"GTC","orderType":"Limit","stopOrderType":"","orderIv":"","triggerPrice":"0.00","takeProfit":"0.00","stopLoss":"0.00","tpTriggerBy":"","slTriggerBy":"","triggerDirection":0,"triggerBy":"","lastPriceOnCreated":"","reduceOnly":false,"closeOnTrigger":false,"smpType":"None","smpGroup":0,"smpOrderId":"","tpslMode":"","tpLimitPrice":"","slLimitPrice":"","placeType":"","createdTime":"1672364262444","updatedTime":"1672364263000"}`,
		orderID, linkID, status, leaves, cumQty)
}

func s30ctBybitRestExec(linkID, orderID, execID, qty, leaves, execTime string) string {
	return fmt.Sprintf(`{"symbol":"BTCUSDT","orderType":"Limit","underlyingPrice":"","orderLinkId":%q,"side":"Buy","indexPrice":"","orderId":%q,"stopOrderType":"","leavesQty":%q,"execTime":%q,"feeCurrency":"BTC","isMaker":true,"execFee":"0.0001","feeRate":"0.001","execId":%q,"tradeIv":"","blockTradeId":"","markPrice":"","execPrice":"1000.1","markIv":"","orderQty":"0.5","orderPrice":"1000.1","execValue":"100","execType":"Trade","execQty":%q,"closedSize":"","seq":4688002127}`,
		linkID, orderID, leaves, execTime, execID, qty)
}

// The venue closes a Bybit connection in the middle of an order.
// (1) The trade connection is cut before order.create's answer: Place
// returns ErrDisconnected; the private connection, still up, brings the
// order's reports (New, its fill, Filled), each once. (2) The private
// connection is cut after an order's New and first fill; the rest fills
// while it is down. After the reconnect (auth and subscriptions anew),
// the host gets the missed fill once, Reconciled, with its execId, and
// the order's end Filled; the streamed fill is not delivered again.
// (3) "in either order": the order topic's Filled comes, the execution
// topic's last fill is lost with the connection: the order ended but its
// fills are not all delivered, so it is still followed ("forgotten once
// it ended and its fills are delivered") and the pass delivers that fill.
func TestS30ctBybitConnectionClosedMidOrder(t *testing.T) {
	b := newS30ctBybit(t)
	execs := newS30ctExecs()
	states := &s30ctStates{}
	s := b.start(t, execs, states)
	ctx := s31ctConnected(t, s)
	priv := func() *s30ctConn { return b.conn("/v5/private", b.opened("/v5/private")) }

	// (1)
	b.mu.Lock()
	b.create = func(c *s30ctConn, rid, link string) []string {
		switch link {
		case "s30bybD":
			p := priv()
			c.cut()
			p.send(s30ctBybitOrderPush(link, "7101", "New", "0", "0.5"))
			p.send(s30ctBybitExecPush(link, "7101", "e1a2b3c4-0000-4000-8000-000000000101", "0.5", "0"))
			p.send(s30ctBybitOrderPush(link, "7101", "Filled", "0.5", "0"))
			return nil
		case "s30bybE":
			p := priv()
			p.send(s30ctBybitOrderPush(link, "7201", "New", "0", "0.5"))
			p.send(s30ctBybitExecPush(link, "7201", "e1a2b3c4-0000-4000-8000-000000000201", "0.2", "0.3"))
			p.send(s30ctBybitOrderPush(link, "7201", "PartiallyFilled", "0.2", "0.3"))
		case "s30bybG":
			p := priv()
			p.send(s30ctBybitOrderPush(link, "7301", "New", "0", "0.5"))
			p.send(s30ctBybitOrderPush(link, "7301", "Filled", "0.5", "0"))
		}
		return []string{s30ctBybitAnswer(rid, "order.create", 0, "OK", map[string]string{"s30bybE": "7201", "s30bybG": "7301"}[link], link)}
	}
	b.mu.Unlock()
	req := s30ctBybitOrder(t, s, "s30bybD")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.ErrorIs(t, err, session.ErrDisconnected)
	got := execs.wait(t, "s30bybD", "", func(x []schema.Execution) bool {
		return len(x) >= 3 && x[len(x)-1].Status == schema.StatusFilled
	}, "(1) the order's reports from the private stream")
	assert.Len(t, s30ctFills(got), 1, "(1) one fill: %+v", got)
	require.NoError(t, s.WaitConnected(ctx), "(1) the trade connection is back")

	// (2)
	req = s30ctBybitOrder(t, s, "s30bybE")
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	execs.wait(t, "s30bybE", "", func(x []schema.Execution) bool { return len(x) >= 3 }, "(2) New, fill, PartiallyFilled")
	b.mu.Lock()
	b.restOrder["7201"] = s30ctBybitRestOrder("s30bybE", "7201", "Filled", "0.5", "0")
	b.restExecs["7201"] = s30ctBybitRestExec("s30bybE", "7201", "e1a2b3c4-0000-4000-8000-000000000202", "0.3", "0", "1672364263000") + "," +
		s30ctBybitRestExec("s30bybE", "7201", "e1a2b3c4-0000-4000-8000-000000000201", "0.2", "0.3", "1672364262500")
	b.mu.Unlock()
	privBefore := b.opened("/v5/private")
	priv().cut()
	got = execs.wait(t, "s30bybE", "", func(x []schema.Execution) bool {
		return len(s30ctFills(x)) >= 2 && x[len(x)-1].Status == schema.StatusFilled
	}, "(2) the missed fill, reconciled")
	require.Greater(t, b.opened("/v5/private"), privBefore)
	fills := s30ctFills(got)
	require.Len(t, fills, 2, "(2) each fill once: %+v", got)
	assert.Equal(t, "e1a2b3c4-0000-4000-8000-000000000202", fills[1].TradeID.String())
	assert.True(t, fills[1].Reconciled)
	assert.Equal(t, "0.5", fills[1].CumFillQty.String())
	require.NoError(t, s.WaitConnected(ctx))

	// (3)
	req = s30ctBybitOrder(t, s, "s30bybG")
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	execs.wait(t, "s30bybG", "", func(x []schema.Execution) bool {
		return len(x) >= 2 && x[len(x)-1].Status == schema.StatusFilled
	}, "(3) New, Filled on the order topic")
	b.mu.Lock()
	b.restOrder["7301"] = s30ctBybitRestOrder("s30bybG", "7301", "Filled", "0.5", "0")
	b.restExecs["7301"] = s30ctBybitRestExec("s30bybG", "7301", "e1a2b3c4-0000-4000-8000-000000000301", "0.5", "0", "1672364263000")
	b.mu.Unlock()
	priv().cut()
	got = execs.wait(t, "s30bybG", "", func(x []schema.Execution) bool {
		return len(s30ctFills(x)) >= 1
	}, "(3) the fill whose execution push was lost, reconciled")
	fills = s30ctFills(got)
	require.Len(t, fills, 1)
	assert.True(t, fills[0].Reconciled)
	assert.Equal(t, "e1a2b3c4-0000-4000-8000-000000000301", fills[0].TradeID.String())
	assert.GreaterOrEqual(t, states.count(schema.ConnDisconnected), 2, "the host is told of each loss")
}

// On Bybit the fill can beat the answer: the order's reports come on the
// private connection, its order.create answer on the trade one. An order
// New, filled (0.5) and Filled on the private stream before its answer
// ends and has its fills delivered, so it is forgotten; the late answer
// (an Ack) must not follow it again (session doc: "An order is forgotten
// once it ended and its fills are delivered … the last 1024 forgotten are
// remembered, so a late report does not follow one again"): Tracked is 0
// once Place returns, and a private reconnect's pass delivers nothing of
// it again.
func TestS30ctBybitFillBeforeAnswer(t *testing.T) {
	b := newS30ctBybit(t)
	execs := newS30ctExecs()
	s := b.start(t, execs, nil)
	ctx := s31ctConnected(t, s)
	b.mu.Lock()
	b.create = func(c *s30ctConn, rid, link string) []string {
		p := b.conn("/v5/private", b.opened("/v5/private"))
		p.send(s30ctBybitOrderPush(link, "7401", "New", "0", "0.5"))
		p.send(s30ctBybitExecPush(link, "7401", "e1a2b3c4-0000-4000-8000-000000000401", "0.5", "0"))
		p.send(s30ctBybitOrderPush(link, "7401", "Filled", "0.5", "0"))
		execs.wait(t, link, "", func(x []schema.Execution) bool {
			return len(x) >= 3 && x[len(x)-1].Status == schema.StatusFilled
		}, "the order's whole life before its answer")
		return []string{s30ctBybitAnswer(rid, "order.create", 0, "OK", "7401", link)}
	}
	b.restOrder["7401"] = s30ctBybitRestOrder("s30bybLate", "7401", "Filled", "0.5", "0")
	b.restExecs["7401"] = s30ctBybitRestExec("s30bybLate", "7401", "e1a2b3c4-0000-4000-8000-000000000401", "0.5", "0", "1672364263000")
	b.mu.Unlock()
	req := s30ctBybitOrder(t, s, "s30bybLate")
	ack, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	assert.Equal(t, "7401", ack.VenueOrderID.String())
	assert.Zero(t, s.Stats().Order.Tracked, "an order that ended, its fills delivered, is not followed again by its late answer")

	was := s.Stats().Order.Reconciliations
	b.conn("/v5/private", b.opened("/v5/private")).cut()
	require.Eventually(t, func() bool { return s.Stats().Order.Reconciliations > was }, s27ctWait, time.Millisecond, "a pass after the private reconnect")
	require.NoError(t, s.WaitConnected(ctx))
	got := execs.of("s30bybLate", "")
	assert.Len(t, s30ctFills(got), 1, "the fill once: %+v", got)
	for _, x := range got {
		assert.False(t, x.Reconciled, "nothing of it reconciled: %+v", x)
	}
}

// A cancel that meets a fill on Bybit ("Order": Filled is pushed twice,
// the second with cancelType CancelByUser and rejectReason
// EC_OrigClOrdIDDoesNotExist): the cancel's answer is 170213 "Order does
// not exist." (ErrOrderNotOpen); the host gets the fill once, the order
// ends Filled (never Canceled), and the normalize doc's "two reports with
// the same cumulative values, neither of them a fill" holds.
func TestS30ctBybitCancelMeetsFill(t *testing.T) {
	b := newS30ctBybit(t)
	execs := newS30ctExecs()
	s := b.start(t, execs, nil)
	ctx := s31ctConnected(t, s)
	priv := func() *s30ctConn { return b.conn("/v5/private", b.opened("/v5/private")) }
	b.mu.Lock()
	b.create = func(c *s30ctConn, rid, link string) []string {
		priv().send(s30ctBybitOrderPush(link, "7501", "New", "0", "0.5"))
		return []string{s30ctBybitAnswer(rid, "order.create", 0, "OK", "7501", link)}
	}
	b.cancelF = func(c *s30ctConn, rid, link string) []string {
		p := priv()
		p.send(s30ctBybitExecPush("s30bybX", "7501", "e1a2b3c4-0000-4000-8000-000000000501", "0.5", "0"))
		p.send(s30ctBybitOrderPush("s30bybX", "7501", "Filled", "0.5", "0"))
		second := strings.Replace(strings.Replace(s30ctBybitOrderPush("s30bybX", "7501", "Filled", "0.5", "0"),
			`"cancelType":"UNKNOWN"`, `"cancelType":"CancelByUser"`, 1), `"rejectReason":"EC_NoError"`, `"rejectReason":"EC_OrigClOrdIDDoesNotExist"`, 1)
		p.send(second)
		return []string{s30ctBybitAnswer(rid, "order.cancel", 170213, "Order does not exist.", "", link)}
	}
	b.mu.Unlock()
	req := s30ctBybitOrder(t, s, "s30bybX")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	req, err = s.Pools().Orders.Get(ctx)
	require.NoError(t, err)
	req.Venue, req.Symbol, req.OrigClientOrderID = schema.VenueBybit, "BTC-USDT", schema.MustID("s30bybX")
	_, err = s.Cancel(ctx, req)
	s.Pools().Orders.Put(req)
	require.ErrorIs(t, err, session.ErrOrderNotOpen)
	got := execs.wait(t, "s30bybX", "", func(x []schema.Execution) bool { return len(x) >= 4 }, "New, the fill, Filled twice")
	assert.Len(t, s30ctFills(got), 1, "%+v", got)
	for _, x := range got {
		assert.NotEqual(t, schema.StatusCanceled, x.Status, "%+v", x)
	}
	assert.Equal(t, schema.StatusFilled, got[len(got)-1].Status)
	assert.Equal(t, got[len(got)-1].CumFillQty.String(), got[len(got)-2].CumFillQty.String())
	assert.Eventually(t, func() bool { return s.Stats().Order.Tracked == 0 }, s27ctWait, time.Millisecond, "ended and filled: no longer followed")
}
