package meltica_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// Kraken loopback, from Kraken's docs: Spot REST "Get Tradable Asset
// Pairs", "Get WebSockets Token" ({"error":[],"result":{"token":…,
// "expires":900}}), "Query Orders Info", "Get Open Orders", "Get Closed
// Orders", "Query Trades Info"; Spot WebSocket v2 "subscribe" answers
// ({"method":"subscribe","result":{"channel":…,"snapshot":true},
// "success":true,"time_in","time_out","req_id"}; a refusal {"error":…,
// "method":"subscribe","success":false,…}), "executions" pushes, add_order
// and cancel_order answers ({"method":"add_order","req_id",…,"result":
// {"order_id","cl_ord_id"},"success":true,"time_in","time_out"}; a
// refusal {"error":"EOrder:Insufficient funds","method":"add_order",
// "success":false,…}).
const s30ctKrakenPairs = `{"error":[],"result":{"XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD","aclass_base":"currency","base":"XXBT","aclass_quote":"currency","quote":"ZUSD","lot":"unit","cost_decimals":5,"pair_decimals":1,"lot_decimals":8,"lot_multiplier":1,"leverage_buy":[],"leverage_sell":[],"fees":[[0,0.26]],"fees_maker":[[0,0.16]],"fee_volume_currency":"ZUSD","margin_call":80,"margin_stop":40,"ordermin":"0.00005","costmin":"0.5","tick_size":"0.1","status":"online"}}}`

type s30ctKraken struct {
	*s30ctPeer
	mu        sync.Mutex
	add       func(c *s30ctConn, reqID any, cid string) []string
	cancelF   func(c *s30ctConn, reqID any) []string
	refuseSub string            // channel whose subscription is refused ("" none)
	closed    map[string]string // txid → ClosedOrders/QueryOrders entry
	trades    map[string]string // trade txid → QueryTrades entry
	seq       map[*s30ctConn]int
	tokens    int      // WebSocket tokens handed out
	queries   []string // cl_ord_id of each ClosedOrders lookup
}

func (k *s30ctKraken) next(c *s30ctConn) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seq[c]++
	return k.seq[c]
}

func s30ctKrakenExec(seq int, body string) string {
	return fmt.Sprintf(`{"channel":"executions","type":"update","data":[%s],"sequence":%d}`, body, seq)
}

func newS30ctKraken(t *testing.T) *s30ctKraken {
	k := &s30ctKraken{s30ctPeer: newS30ctPeer(t), closed: map[string]string{}, trades: map[string]string{}, seq: map[*s30ctConn]int{}}
	k.rest("/0/public/AssetPairs", func(*http.Request) string { return s30ctKrakenPairs })
	k.rest("/0/private/GetWebSocketsToken", func(*http.Request) string {
		k.mu.Lock()
		k.tokens++
		n := k.tokens
		k.mu.Unlock()
		return fmt.Sprintf(`{"error":[],"result":{"token":"1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEM%d","expires":900}}`, n)
	})
	k.rest("/0/private/OpenOrders", func(*http.Request) string { return `{"error":[],"result":{"open":{}}}` })
	k.rest("/0/private/ClosedOrders", func(r *http.Request) string {
		_ = r.ParseForm()
		k.mu.Lock()
		defer k.mu.Unlock()
		k.queries = append(k.queries, r.PostForm.Get("cl_ord_id"))
		var parts []string
		for id, o := range k.closed {
			if cid := r.PostForm.Get("cl_ord_id"); cid == "" || strings.Contains(o, `"cl_ord_id":"`+cid+`"`) {
				parts = append(parts, fmt.Sprintf("%q:%s", id, o))
			}
		}
		return fmt.Sprintf(`{"error":[],"result":{"closed":{%s},"count":%d}}`, strings.Join(parts, ","), len(parts))
	})
	k.rest("/0/private/QueryOrders", func(r *http.Request) string {
		_ = r.ParseForm()
		k.mu.Lock()
		defer k.mu.Unlock()
		var parts []string
		for _, id := range strings.Split(r.PostForm.Get("txid"), ",") {
			if o, ok := k.closed[id]; ok {
				parts = append(parts, fmt.Sprintf("%q:%s", id, o))
			}
		}
		return `{"error":[],"result":{` + strings.Join(parts, ",") + `}}`
	})
	k.rest("/0/private/QueryTrades", func(r *http.Request) string {
		_ = r.ParseForm()
		k.mu.Lock()
		defer k.mu.Unlock()
		var parts []string
		for _, id := range strings.Split(r.PostForm.Get("txid"), ",") {
			if o, ok := k.trades[id]; ok {
				parts = append(parts, fmt.Sprintf("%q:%s", id, o))
			}
		}
		return `{"error":[],"result":{` + strings.Join(parts, ",") + `}}`
	})
	k.rest("/0/private/TradesHistory", func(*http.Request) string { return `{"error":[],"result":{"trades":{},"count":0}}` })
	ack := func(m map[string]any, result string) string {
		return fmt.Sprintf(`{"method":%q,"result":%s,"success":true,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z","req_id":%v}`, m["method"], result, m["req_id"])
	}
	k.handle("/v2", func(c *s30ctConn, text string) []string {
		m := s28ctJSON(t, []byte(text))
		switch m["method"] {
		case "ping":
			return []string{fmt.Sprintf(`{"method":"pong","req_id":%v,"time_in":"2023-09-24T14:10:23.799685Z","time_out":"2023-09-24T14:10:23.799703Z"}`, m["req_id"])}
		case "subscribe":
			p := m["params"].(map[string]any)
			return []string{ack(m, fmt.Sprintf(`{"channel":%q,"snapshot":true,"symbol":"BTC/USD"}`, p["channel"]))}
		}
		return nil
	})
	k.handle("/v2auth", func(c *s30ctConn, text string) []string {
		m := s28ctJSON(t, []byte(text))
		switch m["method"] {
		case "ping":
			return []string{fmt.Sprintf(`{"method":"pong","req_id":%v,"time_in":"2023-09-24T14:10:23.799685Z","time_out":"2023-09-24T14:10:23.799703Z"}`, m["req_id"])}
		case "subscribe":
			p := m["params"].(map[string]any)
			ch, _ := p["channel"].(string)
			k.mu.Lock()
			refuse := k.refuseSub == ch
			k.mu.Unlock()
			if refuse {
				return []string{fmt.Sprintf(`{"error":"EGeneral:Permission denied","method":"subscribe","req_id":%v,"success":false,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`, m["req_id"])}
			}
			out := []string{ack(m, fmt.Sprintf(`{"channel":%q,"snapshot":true,"maxratecount":180}`, ch))}
			switch ch {
			case "executions":
				out = append(out, fmt.Sprintf(`{"channel":"executions","type":"snapshot","data":[],"sequence":%d}`, k.next(c)))
			case "balances":
				out = append(out, fmt.Sprintf(`{"channel":"balances","type":"snapshot","data":[],"sequence":%d}`, k.next(c)))
			}
			return out
		case "add_order":
			p := m["params"].(map[string]any)
			cid, _ := p["cl_ord_id"].(string)
			k.mu.Lock()
			f := k.add
			k.mu.Unlock()
			if f != nil {
				return f(c, m["req_id"], cid)
			}
			return []string{ack(m, fmt.Sprintf(`{"order_id":"OPS23M-VS41G-DDE5Z2","cl_ord_id":%q}`, cid))}
		case "cancel_order":
			k.mu.Lock()
			f := k.cancelF
			k.mu.Unlock()
			if f != nil {
				return f(c, m["req_id"])
			}
			return []string{ack(m, `{"order_id":"OPS23M-VS41G-DDE5Z2"}`)}
		}
		return nil
	})
	return k
}

func (k *s30ctKraken) start(t *testing.T, execs *s30ctExecs) *session.Session {
	t.Helper()
	s, err := session.Start(context.Background(), session.Config{
		Venue:        schema.VenueKraken,
		Endpoints:    session.Endpoints{Stream: k.ws("/v2"), API: k.ws("/v2auth"), REST: k.srv.URL},
		Symbols:      []string{"BTC-USD"},
		Channels:     []string{"trade"},
		Key:          &session.KrakenKey{APIKey: "kraken-key", Secret: "a3Jha2VuLXNlY3JldA=="},
		NoClockSync:  true,
		Client:       s30ctFast(),
		OnExecReport: execs.on,
		// a budget above Kraken's default of 4 a minute, which would
		// make the lost place's lookup wait most of a minute
		ReconcileWeight: 600,
	})
	require.NoError(t, err)
	execs.returnTo(s.Pools())
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	return s
}

func s30ctKrakenOrder(t *testing.T, s *session.Session, cid string) *schema.OrderRequest {
	req := s27ctOrder(t, s, cid)
	req.Venue, req.Symbol, req.Price = schema.VenueKraken, "BTC-USD", schema.MustParseDecimal("1000.1")
	return req
}

func s30ctKrakenAdded(reqID any, cid, orderID string) string {
	return fmt.Sprintf(`{"method":"add_order","req_id":%v,"result":{"order_id":%q,"cl_ord_id":%q},"success":true,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`, reqID, orderID, cid)
}

// A Kraken order's life on the executions channel: add_order answered
// success true (an Ack with order_id), exec_type new, then trade
// (partially_filled, trade_id 101), trade (filled, trade_id 102): each
// fill once with its trade_id and cum_qty, ending Filled. An add_order
// refused ("EOrder:Insufficient funds") is a *VenueError with that Msg
// and Code 0 (session doc "Kraken: … whose Code is 0").
func TestS30ctKrakenOrderLifecycle(t *testing.T) {
	k := newS30ctKraken(t)
	execs := newS30ctExecs()
	s := k.start(t, execs)
	ctx := s31ctConnected(t, s)

	k.mu.Lock()
	k.add = func(c *s30ctConn, reqID any, cid string) []string {
		if cid == "s30krR" {
			return []string{fmt.Sprintf(`{"error":"EOrder:Insufficient funds","method":"add_order","req_id":%v,"success":false,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}`, reqID)}
		}
		const oid = "OK4GJX-KSTLS-7DZZO5"
		return []string{s30ctKrakenAdded(reqID, cid, oid),
			s30ctKrakenExec(k.next(c), fmt.Sprintf(`{"order_id":%q,"cl_ord_id":%q,"symbol":"BTC/USD","order_qty":0.5,"cum_cost":0,"time_in_force":"GTC","exec_type":"new","side":"buy","order_type":"limit","order_userref":0,"limit_price_type":"static","limit_price":1000.1,"stop_price":0,"order_status":"new","fee_usd_equiv":0,"fee_ccy_pref":"fciq","timestamp":"2023-09-22T10:33:05.709950Z","exec_id":"TGBB7L-HT5LX-J3BZ40"}`, oid, cid)),
			s30ctKrakenExec(k.next(c), fmt.Sprintf(`{"order_id":%q,"cl_ord_id":%q,"order_userref":0,"exec_id":"TGBB7L-HT5LX-J3BZ41","exec_type":"trade","trade_id":101,"symbol":"BTC/USD","side":"buy","last_qty":0.2,"last_price":1000.1,"liquidity_ind":"m","cost":200.02,"order_type":"limit","timestamp":"2023-09-22T10:33:06.709993Z","order_status":"partially_filled","cum_qty":0.2,"cum_cost":200.02,"avg_price":1000.1,"fee_usd_equiv":0.32,"fees":[{"asset":"USD","qty":0.32}]}`, oid, cid)),
			s30ctKrakenExec(k.next(c), fmt.Sprintf(`{"order_id":%q,"cl_ord_id":%q,"order_userref":0,"exec_id":"TGBB7L-HT5LX-J3BZ42","exec_type":"trade","trade_id":102,"symbol":"BTC/USD","side":"buy","last_qty":0.3,"last_price":1000.0,"liquidity_ind":"m","cost":300.0,"order_type":"limit","timestamp":"2023-09-22T10:33:07.709993Z","order_status":"filled","cum_qty":0.5,"cum_cost":500.02,"avg_price":1000.04,"fee_usd_equiv":0.48,"fees":[{"asset":"USD","qty":0.48}]}`, oid, cid)),
		}
	}
	k.mu.Unlock()

	req := s30ctKrakenOrder(t, s, "s30krA")
	ack, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	assert.Equal(t, "OK4GJX-KSTLS-7DZZO5", ack.VenueOrderID.String())
	got := execs.wait(t, "", "OK4GJX-KSTLS-7DZZO5", func(x []schema.Execution) bool {
		return len(x) >= 3 && x[len(x)-1].Status == schema.StatusFilled
	}, "new, two fills")
	fills := s30ctFills(got)
	require.Len(t, fills, 2, "%+v", got)
	assert.Equal(t, "101", fills[0].TradeID.String())
	assert.Equal(t, "0.2", fills[0].CumFillQty.String())
	assert.Equal(t, "102", fills[1].TradeID.String())
	assert.Equal(t, "0.5", fills[1].CumFillQty.String())
	assert.Equal(t, "0.3", fills[1].LastFillQty.String())

	req = s30ctKrakenOrder(t, s, "s30krR")
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	var ve *session.VenueError
	require.True(t, errors.As(err, &ve), "%v", err)
	assert.Equal(t, "EOrder:Insufficient funds", ve.Msg)
	assert.Zero(t, ve.Code)
}

// A private subscription Kraken refuses ({"error":"EGeneral:Permission
// denied","method":"subscribe","success":false,…}): WaitConnected returns
// a *LoginError of Step "subscribe" naming the channel, with its
// refusals in a row in Attempts; it is tried again alone on the same
// connection (no second connection needed), and once taken, orders go.
func TestS30ctKrakenSubscriptionRefused(t *testing.T) {
	k := newS30ctKraken(t)
	k.refuseSub = "balances"
	execs := newS30ctExecs()
	s := k.start(t, execs)
	ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
	defer cancel()
	var le *session.LoginError
	require.Eventually(t, func() bool { return errors.As(s.WaitConnected(ctx), &le) && le.Attempts >= 2 }, s27ctWait, 0x100000,
		"refused twice in a row")
	assert.Equal(t, "subscribe", le.Step)
	assert.Equal(t, "balances", le.Channel)
	assert.Equal(t, "EGeneral:Permission denied", le.Msg)
	k.mu.Lock()
	k.refuseSub = ""
	k.mu.Unlock()
	require.Eventually(t, func() bool { return s.WaitConnected(ctx) == nil }, s27ctWait, 0x100000)
	assert.Equal(t, 1, k.opened("/v2auth"), "tried again on the same connection")
	req := s30ctKrakenOrder(t, s, "s30krS")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
}

// The venue closes the authenticated connection before add_order's
// answer; Kraken had taken the order and filled it (trade_id 201). Place
// returns ErrDisconnected. After the reconnect the session looks the
// order up by its cl_ord_id (session doc, "A Place whose outcome is
// unknown … Kraken cl_ord_id": OpenOrders, ClosedOrders) and delivers its
// fill, Reconciled.
func TestS30ctKrakenConnectionClosedBeforeAnswer(t *testing.T) {
	got := s30ctKrakenLostAnswer(t)
	require.Len(t, got, 1, "%+v", got)
	assert.True(t, got[0].Reconciled)
	assert.Equal(t, "201", got[0].TradeID.String())
	assert.Equal(t, schema.StatusFilled, got[0].Status)
}

// The session doc says, of Kraken ("Orders by venue"): "Kraken's orders
// are reconciled like the others' …: an order whose Place returned
// ErrDisconnected is looked up by its cl_ord_id (OpenOrders,
// ClosedOrders) and its fills delivered with Execution.Reconciled set."
// (It said the opposite before s30rvsess.) The lost place is looked up
// by its cl_ord_id, then its trades, and its fill comes Reconciled, once.
func TestS30ctKrakenDocSaysLostPlaceLookedUp(t *testing.T) {
	k, got := s30ctKrakenLostAnswerOn(t)
	require.Len(t, got, 1, "%+v", got)
	assert.True(t, got[0].Reconciled, "looked up, not streamed: %+v", got[0])
	assert.Equal(t, "OLOST1-AAAAA-BBBBBB", got[0].VenueOrderID.String())
	k.mu.Lock()
	defer k.mu.Unlock()
	var byCid bool
	for _, q := range k.queries {
		if strings.Contains(q, "s30krLost") {
			byCid = true
		}
	}
	assert.True(t, byCid, "looked up by its cl_ord_id: %v", k.queries)
}

func s30ctKrakenLostAnswer(t *testing.T) []schema.Execution {
	_, got := s30ctKrakenLostAnswerOn(t)
	return got
}

func s30ctKrakenLostAnswerOn(t *testing.T) (*s30ctKraken, []schema.Execution) {
	k := newS30ctKraken(t)
	execs := newS30ctExecs()
	s := k.start(t, execs)
	ctx := s31ctConnected(t, s)
	k.mu.Lock()
	k.add = func(c *s30ctConn, reqID any, cid string) []string {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.closed["OLOST1-AAAAA-BBBBBB"] = fmt.Sprintf(`{"refid":null,"userref":0,"cl_ord_id":%q,"status":"closed","reason":null,"opentm":1688665496.7808,"closetm":1688665499.1922,"starttm":0,"expiretm":0,"descr":{"pair":"XBTUSD","type":"buy","ordertype":"limit","price":"1000.1","price2":"0","leverage":"none","order":"buy 0.50000000 XBTUSD @ limit 1000.1","close":""},"vol":"0.50000000","vol_exec":"0.50000000","cost":"500.05","fee":"0.80000","price":"1000.1","stopprice":"0.00000","limitprice":"0.00000","misc":"","oflags":"fciq","trades":["TLOST1-CCCCC-DDDDDD"]}`, cid)
		k.trades["TLOST1-CCCCC-DDDDDD"] = `{"ordertxid":"OLOST1-AAAAA-BBBBBB","postxid":"TKH2SE-M7IF5-CFI7LT","pair":"XXBTZUSD","time":1688665499.1922,"type":"buy","ordertype":"limit","price":"1000.1","cost":"500.05","fee":"0.80000","vol":"0.50000000","margin":"0.00000","leverage":"0","misc":"","trade_id":201,"maker":true}`
		c.cut()
		return nil
	}
	k.mu.Unlock()
	req := s30ctKrakenOrder(t, s, "s30krLost")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.ErrorIs(t, err, session.ErrDisconnected)
	return k, execs.wait(t, "s30krLost", "", func(x []schema.Execution) bool {
		return len(x) >= 1 && x[len(x)-1].Status == schema.StatusFilled
	}, "the lost place's fill")
}

// Kraken "Spot REST → GetWebSocketsToken": a token is valid 15 minutes
// until a connection uses it; the session fetches one for every
// connection (session doc, KrakenKey) and every request on a connection
// carries that connection's token: after a reconnect, the subscriptions
// and add_order carry the new token, never the first connection's.
func TestS30ctKrakenTokenPerConnection(t *testing.T) {
	k := newS30ctKraken(t)
	execs := newS30ctExecs()
	s := k.start(t, execs)
	ctx := s31ctConnected(t, s)
	k.conn("/v2auth", 1).cut()
	require.Eventually(t, func() bool { return k.opened("/v2auth") == 2 }, s27ctWait, 0x100000)
	require.Eventually(t, func() bool {
		return s.WaitConnected(ctx) == nil && len(k.find("/v2auth", func(string) bool { return true })) > 0
	}, s27ctWait, 0x100000)
	req := s30ctKrakenOrder(t, s, "s30krTok")
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	k.mu.Lock()
	tokens := k.tokens
	k.mu.Unlock()
	assert.Equal(t, 2, tokens, "one token per connection")
	for _, m := range k.find("/v2auth", func(s string) bool { return strings.Contains(s, `"token"`) }) {
		want := fmt.Sprintf("1Dwc4lzSwNWOAwkMdqhssNNFhs1ed606d1WcF3XfEM%d", m.conn.n)
		p := s28ctObj(t, s28ctJSON(t, []byte(m.text))["params"], "params")
		assert.Equal(t, want, s28ctStr(t, p, "token"), "connection %d: %s", m.conn.n, m.text)
	}
	add := k.find("/v2auth", func(s string) bool { return strings.Contains(s, `"s30krTok"`) })
	require.Len(t, add, 1)
	assert.Equal(t, 2, add[0].conn.n)
}
