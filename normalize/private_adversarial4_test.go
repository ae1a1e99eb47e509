package normalize

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Adversarial tests of the private streams, written from each venue's
// documented fields and values (the doc named above each test): what a
// strategy trades on — fill quantities, fees, statuses — read as the
// venue means it, and every word or value the docs do not allow refused
// typed, never delivered as Unknown nor panicking.

// bnExecReport is a spot executionReport in the shape of Binance "User
// Data Streams for Binance" ("Order Update" example) with x, X, and the
// last ("l"), cumulative ("z") and order ("q") quantities set.
func bnExecReport(x, X, l, z, q string) string {
	return `{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","o":"LIMIT","f":"GTC","q":"` + q +
		`","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"` + x + `","X":"` + X + `","r":"NONE","i":4293153,"l":"` + l +
		`","z":"` + z + `","L":"0.10264410","n":"0.00000100","N":"BNB","T":1499405658657,"t":77,"I":8641984,"w":true,"m":false,"M":false,"O":1499405658657,"Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":1499405658657,"V":"NONE"}`
}

// bnOrderTradeUpdate is a USDⓈ-M ORDER_TRADE_UPDATE (Binance USDⓈ-M
// Futures "Event: Order Update" example) with x, X, l, z and q set.
func bnOrderTradeUpdate(x, X, l, z, q string) string {
	return `{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"TEST","S":"SELL","o":"LIMIT","f":"GTC","q":"` + q +
		`","p":"7100","ap":"7100","sp":"0","x":"` + x + `","X":"` + X + `","i":8886774,"l":"` + l + `","z":"` + z +
		`","L":"7100","N":"USDT","n":"0.01","T":1568879465650,"t":99,"b":"0","a":"9.91","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0}}`
}

// TestAdv4BinanceUnknownWords: the docs list every "x" (NEW, CANCELED,
// REPLACED, REJECTED, TRADE, EXPIRED, TRADE_PREVENTION, AMENDMENT;
// USDⓈ-M adds CALCULATED) and "X". A word they do not list is refused
// typed (a report with StatusUnknown or ExecUnknown is one a strategy
// cannot act on), but a report carrying a fill ("l" > 0) is never dropped
// for a word: it is a Trade, its status derived from "z" and "q". A
// TRADE of no quantity is malformed.
func TestAdv4BinanceUnknownWords(t *testing.T) {
	for _, msg := range []struct {
		name string
		make func(x, X, l, z, q string) string
	}{{"spot", bnExecReport}, {"futures", bnOrderTradeUpdate}} {
		t.Run(msg.name, func(t *testing.T) {
			requireRefused(t, schema.VenueBinance, msg.make("NEW", "NEW_SHINY", "0", "0", "1"), "X", ErrUnknownStatus)
			requireRefused(t, schema.VenueBinance, msg.make("TELEPORT", "NEW", "0", "0", "1"), "x", ErrUnknownExecType)
			requireRefused(t, schema.VenueBinance, msg.make("TRADE", "PARTIALLY_FILLED", "0", "0.5", "1"), "l", ErrBadValue)
			for _, tc := range []struct {
				x, X, l, z string
				status     schema.OrderStatus
			}{
				{"TRADE_V2", "PARTIALLY_FILLED", "0.4", "0.4", schema.StatusPartiallyFilled},
				{"TRADE", "DONE_SOMEHOW", "0.4", "0.9", schema.StatusPartiallyFilled},
				{"TRADE", "DONE_SOMEHOW", "0.1", "1.0", schema.StatusFilled},
				{"FUTURE_WORD", "OTHER_WORD", "1", "1", schema.StatusFilled},
			} {
				evs, err := newConnFeed(t, schema.VenueBinance).feed(1, msg.make(tc.x, tc.X, tc.l, tc.z, "1"))
				require.NoError(t, err, tc)
				require.Len(t, evs, 1)
				x := evs[0].Exec
				require.Equal(t, schema.ExecTrade, x.ExecType, tc)
				require.Equal(t, tc.status, x.Status, tc)
				requireDigits(t, tc.l, x.LastFillQty)
				requireDigits(t, tc.z, x.CumFillQty)
			}
		})
	}
}

// TestAdv4BinanceLastVersusCumulative: "l" is the last executed quantity
// and "z" the cumulative one, "n" the commission of this fill in "N"
// (positive: charged), "Z" the cumulative quote quantity (Binance "Order
// Update"; USDⓈ-M "Event: Order Update" has "l", "z", "n", "N"). The
// second of two fills reports its own quantity, never the cumulative.
func TestAdv4BinanceLastVersusCumulative(t *testing.T) {
	for _, make := range []func(x, X, l, z, q string) string{bnExecReport, bnOrderTradeUpdate} {
		c := newConnFeed(t, schema.VenueBinance)
		evs, err := c.feed(1, strings.Replace(make("TRADE", "PARTIALLY_FILLED", "0.3", "0.8", "1"), `"t":77`, `"t":78`, 1))
		require.NoError(t, err)
		require.Len(t, evs, 1)
		x := evs[0].Exec
		requireDigits(t, "0.3", x.LastFillQty, "LastFillQty is l")
		requireDigits(t, "0.8", x.CumFillQty, "CumFillQty is z")
		requireDigits(t, "0.2", x.RemainingQty)
		require.Equal(t, 1, x.Fee.Sign(), "a commission is a fee paid: positive")
		require.False(t, x.FeeAsset.IsZero())
	}
}

// bnAlgo is an ALGO_UPDATE (Binance USDⓈ-M "Event: Algo Order Update"
// example) with status X, order quantity q and executed quantity aq.
func bnAlgo(X, q, aq string) string {
	return `{"e":"ALGO_UPDATE","T":1750515742297,"E":1750515742303,"o":{"caid":"Q5xaq5EGKgXXa0fD7fs0Ip","aid":2148719,"at":"CONDITIONAL","o":"TAKE_PROFIT","s":"BNBUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"` + q +
		`","X":"` + X + `","ai":"","ap":"750.00000","aq":"` + aq + `","act":"0","tp":"750","p":"750","V":"EXPIRE_MAKER","wt":"CONTRACT_PRICE","pm":"NONE","cp":false,"pP":false,"R":false,"tt":0,"gtd":0,"rm":""}}`
}

// TestAdv4BinanceAlgoStatuses: the page's "Algo Status" list. TRIGGERING
// ("met the triggering condition and has been forwarded to the matching
// engine") and TRIGGERED ("successfully placed into the matching engine")
// leave the conditional order working: ExecTriggered, StatusNew — never
// Unknown, which a strategy watching its stop cannot read. FINISHED ("has
// been filled or canceled in the matching engine") is final: Filled when
// the executed quantity reached the order's, Canceled otherwise. No
// report is a fill (they come from ORDER_TRADE_UPDATE). A status the page
// does not list is refused typed.
func TestAdv4BinanceAlgoStatuses(t *testing.T) {
	for _, tc := range []struct {
		X, q, aq string
		exec     schema.ExecType
		status   schema.OrderStatus
	}{
		{"TRIGGERING", "0.01", "0", schema.ExecTriggered, schema.StatusNew},
		{"TRIGGERED", "0.01", "0", schema.ExecTriggered, schema.StatusNew},
		{"FINISHED", "0.01", "0.01", schema.ExecOrderStatus, schema.StatusFilled},
		{"FINISHED", "0.01", "0.004", schema.ExecCanceled, schema.StatusCanceled},
		{"FINISHED", "0.01", "0", schema.ExecCanceled, schema.StatusCanceled},
		{"FINISHED", "0", "0.5", schema.ExecOrderStatus, schema.StatusFilled}, // close-position: no quantity of its own
		{"NEW", "0.01", "0", schema.ExecNew, schema.StatusNew},
		{"EXPIRED", "0.01", "0", schema.ExecExpired, schema.StatusExpired},
	} {
		evs, err := newConnFeed(t, schema.VenueBinance).feed(1, bnAlgo(tc.X, tc.q, tc.aq))
		require.NoError(t, err, tc)
		require.Len(t, evs, 1)
		x := evs[0].Exec
		require.Equal(t, tc.exec, x.ExecType, tc)
		require.Equal(t, tc.status, x.Status, tc)
		require.True(t, x.LastFillQty.IsZero(), "an algo update is no fill")
		require.NotEqual(t, schema.StatusUnknown, x.Status)
	}
	requireRefused(t, schema.VenueBinance, bnAlgo("PAUSED", "0.01", "0"), "X", ErrUnknownStatus)
}

// bybitOrder is an order topic push (Bybit v5 "Order" example) of a
// conditional order with orderStatus status.
func bybitOrder(status string) string {
	return `{"id":"5923240c6880ab-c59f-420b-9adb-3639adc9dd90","topic":"order","creationTime":1672364262474,"data":[{"category":"linear","symbol":"ETHUSDT","orderId":"5cf98598-39a7-459e-97bf-76ca765ee020","orderLinkId":"","isLeverage":"","blockTradeId":"","side":"Sell","positionIdx":1,"orderStatus":"` + status +
		`","cancelType":"UNKNOWN","rejectReason":"EC_NoError","timeInForce":"IOC","price":"72.5","qty":"1","avgPrice":"","leavesQty":"1","leavesValue":"0","cumExecQty":"0","cumExecValue":"0","cumExecFee":"0","orderType":"Market","stopOrderType":"StopLoss","orderIv":"","triggerPrice":"75.5","takeProfit":"","stopLoss":"","triggerBy":"LastPrice","tpTriggerBy":"","slTriggerBy":"","triggerDirection":2,"placeType":"","lastPriceOnCreated":"76.32","closeOnTrigger":true,"reduceOnly":true,"smpGroup":0,"smpType":"None","smpOrderId":"","slLimitPrice":"0","tpLimitPrice":"0","marketUnit":"","createdTime":"1672364262444","updatedTime":"1672364262457","feeCurrency":""}]}`
}

// TestAdv4BybitConditionalStatuses: Bybit v5 "Enums → orderStatus":
// Untriggered ("Conditional orders are created") is an accepted, working
// order — New, as Binance (NEW), Kraken (new) and Coinbase (OPEN) report
// one — not PendingNew, which says the venue has not yet acknowledged it;
// Triggered ("instantaneous state for conditional orders from
// Untriggered to New") is ExecTriggered; Deactivated (canceled before it
// triggered) is final.
func TestAdv4BybitConditionalStatuses(t *testing.T) {
	for _, tc := range []struct {
		status string
		exec   schema.ExecType
		st     schema.OrderStatus
	}{
		{"Untriggered", schema.ExecNew, schema.StatusNew},
		{"Triggered", schema.ExecTriggered, schema.StatusNew},
		{"Deactivated", schema.ExecCanceled, schema.StatusCanceled},
	} {
		evs, err := newConnFeed(t, by).feed(1, bybitOrder(tc.status))
		require.NoError(t, err, tc.status)
		require.Len(t, evs, 1)
		x := evs[0].Exec
		require.Equal(t, tc.exec, x.ExecType, tc.status)
		require.Equal(t, tc.st, x.Status, tc.status)
		requireDigits(t, "75.5", x.StopPrice)
	}
}

// TestAdv4BybitNonFillExecTypes: Bybit v5 "Enums → execType" lists, beside
// the fills, Funding, Dividend and the settlements of a corporate action
// (ForwardSplitSettle, ReverseSplitSettle, and CorporateAction before
// them): none is a fill of an order. Each is skipped on purpose (not
// refused as an unknown word), counted in Stats.Ignored (s36norm: an
// account event, not an execution report; bybitAccountExecs).
func TestAdv4BybitNonFillExecTypes(t *testing.T) {
	for _, typ := range []string{"Funding", "Dividend", "ForwardSplitSettle", "ReverseSplitSettle", "CorporateAction"} {
		c := newConnFeed(t, by)
		evs, err := c.feed(1, bybitExec(typ, "X-"+typ, "2", "0"))
		require.NoError(t, err, typ)
		require.Empty(t, evs, typ)
		require.Equal(t, uint64(1), c.p.Stats().Ignored, typ)
	}
}

// TestAdv4BybitExecutionQuantities: the execution topic's execQty is this
// fill's quantity; it sends no cumulative quantity but leavesQty ("The
// remaining qty not executed"), so CumFillQty is orderQty − leavesQty.
// execFee is positive when paid and negative for a maker rebate (Bybit
// "Execution": "execFee"), and kept with its sign.
func TestAdv4BybitExecutionQuantities(t *testing.T) {
	c := newConnFeed(t, by)
	msg := strings.Replace(bybitExec("Trade", "E-7", "0.5", "0.75"), `"execFee":"0.005061"`, `"execFee":"-0.0001"`, 1)
	msg = strings.Replace(msg, `"isMaker":false`, `"isMaker":true`, 1)
	evs, err := c.feed(1, msg)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	x := evs[0].Exec
	requireDigits(t, "0.5", x.LastFillQty)
	requireDigits(t, "1.25", x.CumFillQty)
	requireDigits(t, "0.75", x.RemainingQty)
	require.Equal(t, schema.StatusPartiallyFilled, x.Status)
	requireDigits(t, "-0.0001", x.Fee, "a maker rebate is a negative fee")
	require.True(t, x.IsMaker)
}

// okxOrderPush is an orders push (OKX v5 "Order channel" shape) with
// state, fill size, fill fee and amendResult set.
func okxOrderPush(state, fillSz, fillFee, amend string) string {
	trade := ""
	if fillSz != "0" {
		trade = "T-" + fillSz
	}
	return `{"arg":{"channel":"orders","instType":"SPOT","uid":"614488474791936"},"data":[{"accFillSz":"` + fillSz + `","amendResult":"` + amend +
		`","avgPx":"100","cTime":"1646637216765","cancelSource":"","category":"normal","ccy":"","clOrdId":"c1","code":"0","execType":"T","fee":"` + fillFee +
		`","feeCcy":"USDT","fillFee":"` + fillFee + `","fillFeeCcy":"USDT","fillPx":"100","fillSz":"` + fillSz + `","fillTime":"1646637216767","instId":"BTC-USDT","instType":"SPOT","msg":"px too far","ordId":"420","ordType":"limit","px":"100","side":"buy","state":"` + state +
		`","sz":"1","tdMode":"cash","tgtCcy":"","tradeId":"` + trade + `","uTime":"1646637216768"}]}`
}

// TestAdv4OKXFeeSign: OKX "Order channel": fillFee "Negative number
// represents the user transaction fee charged by the platform. Positive
// number represents rebate." The schema's Fee is what was paid: a charge
// is positive, a rebate negative.
func TestAdv4OKXFeeSign(t *testing.T) {
	for _, tc := range []struct{ fillFee, fee string }{{"-0.08", "0.08"}, {"0.002", "-0.002"}, {"0", "0"}} {
		evs, err := newConnFeed(t, ox).feed(1, okxOrderPush("partially_filled", "0.4", tc.fillFee, ""))
		require.NoError(t, err)
		require.Len(t, evs, 1)
		x := evs[0].Exec
		require.Equal(t, schema.ExecTrade, x.ExecType)
		requireDigits(t, tc.fee, x.Fee, tc.fillFee)
		require.Equal(t, "USDT", x.FeeAsset.String())
		requireDigits(t, "0.4", x.LastFillQty)
	}
}

// TestAdv4OKXAmendResults: OKX "Order channel" amendResult: "-1" failure
// (the order as it was, msg the reason), "0" success, "1" automatic
// cancel (the amendment failed after it was accepted: the order is
// canceled), "2" automatic amendment (options' pxVol/pxUsd orders).
func TestAdv4OKXAmendResults(t *testing.T) {
	for _, tc := range []struct {
		state, amend string
		exec         schema.ExecType
		status       schema.OrderStatus
		reason       string
	}{
		{"live", "0", schema.ExecAmendment, schema.StatusNew, ""},
		{"live", "2", schema.ExecAmendment, schema.StatusNew, ""},
		{"live", "-1", schema.ExecOrderStatus, schema.StatusNew, "px too far"},
		{"canceled", "1", schema.ExecCanceled, schema.StatusCanceled, "px too far"},
	} {
		evs, err := newConnFeed(t, ox).feed(1, okxOrderPush(tc.state, "0", "0", tc.amend))
		require.NoError(t, err, tc.amend)
		require.Len(t, evs, 1)
		x := evs[0].Exec
		require.Equal(t, tc.exec, x.ExecType, tc.amend)
		require.Equal(t, tc.status, x.Status, tc.amend)
		require.Equal(t, tc.reason, x.RejectReason, tc.amend)
	}
}

// okxBalPosPush is the balance_and_position push of OKX v5 "Balance and
// position channel" (its example, with a short position added).
const okxBalPosPush = `{"arg":{"channel":"balance_and_position","uid":"77982378738415879"},"data":[{"pTime":"1597026383085","eventType":"snapshot",` +
	`"balData":[{"ccy":"BTC","cashBal":"1","uTime":"1597026383085"},{"ccy":"USDT","cashBal":"-12.5","uTime":"1597026383086"}],` +
	`"posData":[{"posId":"1111111111","tradeId":"2","instId":"BTC-USD-191018","instType":"FUTURES","mgnMode":"cross","posSide":"long","pos":"10","ccy":"BTC","posCcy":"","avgPx":"3320","nonSettleAvgPx":"","settledPnl":"","uTime":"1597026383085"},` +
	`{"posId":"2222","tradeId":"3","instId":"ETH-USDT-SWAP","instType":"SWAP","mgnMode":"isolated","posSide":"short","pos":"4","ccy":"USDT","posCcy":"","avgPx":"2500","uTime":"1597026383087"}],` +
	`"trades":[{"instId":"BTC-USD-191018","tradeId":"2"}]}]}`

// TestAdv4OKXBalanceAndPosition: each balData entry is the currency's
// cash balance (a BalanceWallet), each posData entry a position as the
// positions channel reads it (a short's pos is sent positive), all one
// message (Index of Count), Reason the eventType, ExchangeTS the pTime.
func TestAdv4OKXBalanceAndPosition(t *testing.T) {
	c := newConnFeed(t, ox)
	evs, err := c.feed(1, okxBalPosPush)
	require.NoError(t, err)
	require.Len(t, evs, 4)
	for i, ev := range evs {
		require.NoError(t, ev.Validate())
		require.Equal(t, int64(1597026383085)*ms, ev.ExchangeTS)
		switch ev.Type {
		case schema.EventBalance:
			require.Equal(t, uint32(i), ev.Balance.Index)
			require.Equal(t, uint32(4), ev.Balance.Count)
			require.Equal(t, "snapshot", ev.Balance.Reason)
			require.Equal(t, schema.BalanceWallet, ev.Balance.Kind)
		case schema.EventPosition:
			require.Equal(t, uint32(i), ev.Position.Index)
			require.Equal(t, uint32(4), ev.Position.Count)
			require.Equal(t, "snapshot", ev.Position.Reason)
		default:
			t.Fatalf("event %d: %v", i, ev.Type)
		}
	}
	require.Equal(t, "BTC", evs[0].Balance.Asset.String())
	requireDigits(t, "1", evs[0].Balance.Wallet)
	requireDigits(t, "-12.5", evs[1].Balance.Wallet, "a cash balance may be negative (borrowed)")
	require.Equal(t, int64(1597026383086)*ms, evs[1].Balance.UpdateTime)
	require.Equal(t, "BTC-USD-191018", evs[2].Symbol)
	require.Equal(t, schema.PositionLong, evs[2].Position.Side)
	requireDigits(t, "10", evs[2].Position.Amount)
	requireDigits(t, "3320", evs[2].Position.EntryPrice)
	require.Equal(t, schema.MarginCross, evs[2].Position.MarginType)
	require.Equal(t, schema.PositionShort, evs[3].Position.Side)
	requireDigits(t, "-4", evs[3].Position.Amount)
	require.Equal(t, schema.MarginIsolated, evs[3].Position.MarginType)
	require.Zero(t, c.p.Stats().Unknown)
}

// TestAdv4OKXBalanceAndPositionFaults: a push with neither array is
// refused typed; with empty arrays it changes nothing (no event, no
// error, not unknown); a bad entry is dropped typed and the others still
// come.
func TestAdv4OKXBalanceAndPositionFaults(t *testing.T) {
	requireRefused(t, ox, `{"arg":{"channel":"balance_and_position","uid":"1"},"data":[{"pTime":"1","eventType":"filled"}]}`, "balData", ErrMissingField)

	events := schema.NewPools(nil).Events
	sink := &recSink{events: events}
	p := NewOKX(events, sink, nil)
	require.NoError(t, p.HandleBytes(context.Background(), []byte(`{"arg":{"channel":"balance_and_position","uid":"1"},"data":[{"pTime":"1","eventType":"filled","balData":[],"posData":[]}]}`), 1))
	require.Empty(t, sink.got)
	require.Zero(t, p.Stats().Unknown)

	sink.got = nil
	bad := strings.Replace(okxBalPosPush, `"cashBal":"1"`, `"cashBal":"NaN"`, 1)
	err := p.HandleBytes(context.Background(), []byte(bad), 1)
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, ox, pe.Venue)
	require.Len(t, sink.got, 3, "the other entries still come")
	require.Zero(t, events.Stats().InUse)
}

// TestAdv4KrakenFeesAndQuantities: Kraken v2 "Executions": on a trade,
// last_qty is this fill and cum_qty the order's total; fees is a list of
// {asset, qty}, qty the fee paid (positive).
func TestAdv4KrakenFeesAndQuantities(t *testing.T) {
	c := newConnFeed(t, kr)
	evs, err := c.feed(1, `{"channel":"executions","type":"update","data":[{"order_id":"OK4GJX-KSTLS-7DZZO5","order_userref":3,"exec_id":"TGBB7L-HT5LX-J3BZ4A","exec_type":"trade","trade_id":62887576,"symbol":"BTC/USD","side":"sell","last_qty":0.002,"last_price":26599.9,"liquidity_ind":"m","cost":53.1998,"order_type":"limit","timestamp":"2023-09-22T10:33:05.709993Z","order_status":"partially_filled","order_qty":0.005,"cum_qty":0.004,"cum_cost":106.3996,"avg_price":26599.9,"fee_usd_equiv":0.1383,"fees":[{"asset":"USD","qty":0.1383}]}],"sequence":10}`)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	x := evs[0].Exec
	requireDigits(t, "0.002", x.LastFillQty)
	requireDigits(t, "0.004", x.CumFillQty)
	requireDigits(t, "0.001", x.RemainingQty)
	requireDigits(t, "0.1383", x.Fee)
	require.Equal(t, "USD", x.FeeAsset.String())
	require.True(t, x.IsMaker)
}

// TestAdv4BadValuesTyped: every private message, with a number the docs
// do not allow (NaN, Infinity, an exponent, a value past the decimal's
// range, a negative quantity), is a *ParseError of its venue or a valid
// event — never a panic, never an event built from the bad number.
func TestAdv4BadValuesTyped(t *testing.T) {
	cases := []struct {
		venue schema.Venue
		msg   string
		field string // a quantity whose value is replaced
		value string // its value in msg, quoted as sent
	}{
		{schema.VenueBinance, bnExecReport("TRADE", "PARTIALLY_FILLED", "0.3", "0.8", "1"), "l", `"0.3"`},
		{schema.VenueBinance, bnOrderTradeUpdate("TRADE", "PARTIALLY_FILLED", "0.3", "0.8", "1"), "z", `"0.8"`},
		{schema.VenueBinance, bnAlgo("FINISHED", "0.01", "0.01"), "aq", `"0.01"`},
		{ox, okxOrderPush("partially_filled", "0.4", "-0.08", ""), "fillSz", `"0.4"`},
		{ox, okxBalPosPush, "pos", `"10"`},
		{by, bybitExec("Trade", "E-1", "1", "1"), "execQty", `"1"`},
		{by, bybitOrder("New"), "qty", `"1"`},
		{kr, `{"channel":"executions","type":"update","data":[{"order_id":"O-1","exec_type":"trade","trade_id":5,"symbol":"BTC/USD","side":"buy","last_qty":0.5,"last_price":1,"order_status":"partially_filled","timestamp":"2024-01-02T03:04:05.123000Z"}],"sequence":2}`, "last_qty", `0.5`},
		{cb, string(coinbaseUser("update", "OPEN", "0.4", "0.6", "20000", "1")), "cumulative_quantity", `"0.4"`},
	}
	for _, tc := range cases {
		require.Contains(t, tc.msg, `"`+tc.field+`":`+tc.value, "the case names a field of its message")
		for _, bad := range []string{`"NaN"`, `"Infinity"`, `"-1"`, `"1e5"`, `"99999999999999999999999999999999999999999"`, `"0x10"`, `""`, `null`, `{}`, `[1]`, `"1.2.3"`, `true`} {
			msg := strings.Replace(tc.msg, `"`+tc.field+`":`+tc.value, `"`+tc.field+`":`+bad, 1)
			events := pool.New("adv4", 8, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
			var got []*schema.CanonicalEvent
			sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
				got = append(got, ev)
				return nil
			})
			p := newVenueParser(tc.venue, events, sink)
			err := p.HandleBytes(context.Background(), []byte(msg), 1)
			var pe *ParseError
			if err != nil {
				require.True(t, errors.As(err, &pe), "%s %s=%s: %v", tc.venue, tc.field, bad, err)
				require.Equal(t, tc.venue, pe.Venue)
			}
			for _, ev := range got {
				require.NoError(t, ev.Validate(), "%s %s=%s", tc.venue, tc.field, bad)
				if x := ev.Exec; ev.Type == schema.EventExecReport {
					require.NotNil(t, x, "an execution report carries Exec")
					require.GreaterOrEqual(t, x.LastFillQty.Sign(), 0)
					require.GreaterOrEqual(t, x.CumFillQty.Sign(), 0)
					require.GreaterOrEqual(t, x.Qty.Sign(), 0)
				}
				events.Put(ev)
			}
			require.Zero(t, events.Stats().InUse)
			require.Zero(t, p.Stats().Panics)
			if bad == `"-1"` && tc.field != "pos" {
				require.Error(t, err, "%s: a negative %s is refused", tc.venue, tc.field)
			}
		}
	}
}

// TestAdv4OKXSubscribeBalanceAndPosition: OKX "Balance and position
// channel" request: {"op":"subscribe","args":[{"channel":
// "balance_and_position"}]}.
func TestAdv4OKXSubscribeBalanceAndPosition(t *testing.T) {
	b, err := OKXSubscribeBalanceAndPosition()
	require.NoError(t, err)
	require.JSONEq(t, `{"op":"subscribe","args":[{"channel":"balance_and_position"}]}`, string(b))
}

// The paths added here cost no allocation either (TestVenuesZeroAllocs):
// a balance_and_position push, a conditional order triggered, a report
// whose status is derived from its fill.
func init() {
	venueAllocCases = append(venueAllocCases,
		gen(ox, "balance_and_position", func() []byte { return []byte(okxBalPosPush) }),
		gen(by, "order Triggered", func() []byte { return []byte(bybitOrder("Triggered")) }),
		gen(schema.VenueBinance, "ALGO_UPDATE TRIGGERED", func() []byte { return []byte(bnAlgo("TRIGGERED", "0.01", "0")) }),
		gen(schema.VenueBinance, "ALGO_UPDATE FINISHED", func() []byte { return []byte(bnAlgo("FINISHED", "0.01", "0.01")) }),
		gen(schema.VenueBinance, "executionReport unknown X with a fill", func() []byte {
			return []byte(bnExecReport("TRADE", "DONE_SOMEHOW", "0.1", "1.0", "1"))
		}),
		gen(schema.VenueBinance, "ORDER_TRADE_UPDATE", func() []byte {
			return []byte(bnOrderTradeUpdate("TRADE", "PARTIALLY_FILLED", "0.3", "0.8", "1"))
		}),
	)
}

// TestAdv4OKXFeeWithoutFillFee: a push that lacks fillFee (the shared
// recording okx_orders_fill) still reports the fee of the order's first
// fill, from the accumulated "fee" (OKX "Order channel": "Accumulated fee
// and rebate amount"), and no guess for a later fill.
func TestAdv4OKXFeeWithoutFillFee(t *testing.T) {
	evs, err := parseOne(t, ox, sharedFile(t, "okx_orders_fill"))
	require.NoError(t, err)
	require.Len(t, evs, 1)
	x := evs[0].Exec
	requireDigits(t, "0.021776769", x.Fee)
	require.Equal(t, "USDT", x.FeeAsset.String())

	later := strings.Replace(strings.Replace(okxOrderPush("partially_filled", "0.4", "-0.08", ""), `"fillFee":"-0.08",`, "", 1), `"accFillSz":"0.4"`, `"accFillSz":"0.9"`, 1)
	evs, err = parseOne(t, ox, []byte(later))
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.True(t, evs[0].Exec.Fee.IsZero(), "the accumulated fee of two fills is not the last one's")
}

func sharedFile(t *testing.T, name string) []byte { return shared("", name).msg(t) }

// FuzzPrivateDocs fuzzes every venue's private stream from the examples
// of its docs (the messages above and the shared recordings): whatever
// the input, no panic, only *ParseErrors of the venue, only valid
// events, every event returned, and no execution report that a strategy
// would misread — a Trade has a positive fill of a named order, no
// quantity is negative, a fill is never larger than the order's
// cumulative quantity when both are sent.
func FuzzPrivateDocs(f *testing.F) {
	venues := []schema.Venue{schema.VenueBinance, ox, by, kr, cb}
	for _, s := range []string{
		bnExecReport("TRADE", "PARTIALLY_FILLED", "0.3", "0.8", "1"),
		bnOrderTradeUpdate("CALCULATED", "FILLED", "1", "1", "1"),
		bnAlgo("TRIGGERED", "0.01", "0"), bnAlgo("FINISHED", "0", "0.5"),
	} {
		f.Add(uint8(0), []byte(s))
	}
	for _, s := range []string{okxOrderPush("partially_filled", "0.4", "-0.08", ""), okxOrderPush("canceled", "0", "0", "1"), okxBalPosPush} {
		f.Add(uint8(1), []byte(s))
	}
	for _, s := range []string{bybitOrder("Untriggered"), bybitOrder("Triggered"), bybitExec("Dividend", "D-1", "2", "0"), bybitExec("Trade", "E-1", "1", "1")} {
		f.Add(uint8(2), []byte(s))
	}
	f.Add(uint8(3), []byte(`{"channel":"executions","type":"snapshot","data":[{"order_id":"OK4GJX-KSTLS-7DZZO5","exec_type":"trade","trade_id":62887576,"symbol":"BTC/USD","side":"sell","last_qty":0.002,"last_price":26599.9,"liquidity_ind":"m","order_status":"partially_filled","order_qty":0.005,"cum_qty":0.004,"fees":[{"asset":"USD","qty":0.1383}],"timestamp":"2023-09-22T10:33:05.709993Z"}],"sequence":10}`))
	f.Add(uint8(4), coinbaseUser("update", "OPEN", "0.4", "0.6", "20000.00", "12.00"))
	for i, v := range venues {
		for _, name := range []string{"executionReport", "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "orders", "account", "positions", "execution", "order", "wallet", "position", "executions", "balances", "user"} {
			files, _ := filepathGlob(sharedVenues, string(v)+"_*"+name+"*")
			for _, b := range files {
				f.Add(uint8(i), b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, vi uint8, data []byte) {
		venue := venues[int(vi)%len(venues)]
		events := pool.New("fuzz", 8, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
		sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			defer events.Put(ev)
			if err := s41fuzzCheck(ev); err != nil {
				t.Fatalf("published an invalid event: %v: %+v", err, ev)
			}
			if ev.Type != schema.EventExecReport {
				return nil
			}
			x := ev.Exec // s41fuzzCheck: a report carries it (it names an order)
			for _, q := range []schema.Decimal{x.Qty, x.LastFillQty, x.CumFillQty, x.RemainingQty, x.LastFillPrice, x.Price, x.AvgPrice} {
				if q.Sign() < 0 {
					t.Fatalf("a negative quantity or price: %+v", x)
				}
			}
			if x.ClientOrderID.IsZero() && x.VenueOrderID.IsZero() {
				t.Fatalf("a report of no order: %+v", ev)
			}
			if x.ExecType == schema.ExecTrade && x.LastFillQty.Sign() <= 0 {
				t.Fatalf("a Trade of no fill: %+v", x)
			}
			return nil
		})
		p := newVenueParser(venue, events, sink)
		for range 2 {
			err := p.HandleBytes(context.Background(), data, 1)
			var pe *ParseError
			if err != nil && (!errors.As(err, &pe) || pe.Venue != venue || pe.Err == nil) {
				t.Fatalf("not a *ParseError of %s: %v", venue, err)
			}
			if n := events.Stats().InUse; n != 0 {
				t.Fatalf("%d events not returned", n)
			}
		}
		if p.Stats().Panics != 0 {
			t.Fatalf("%d panics", p.Stats().Panics)
		}
	})
}

// filepathGlob reads the files in dir matching pattern.
func filepathGlob(dir, pattern string) ([][]byte, error) {
	names, err := filepath.Glob(filepath.Join(dir, pattern))
	var out [][]byte
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			out = append(out, b)
		}
	}
	return out, err
}

// TestAdv4RestatedFillWithFinalStatus: OKX's orders channel names the
// last fill (tradeId, fillSz, fillPx: "Last filled quantity", "Last
// traded ID") on the order's push; should a later push of the order
// restate that fill beside a final state, the fill is not counted twice
// and the final status is not lost with the repeat: it comes as the
// status's report with no fill. A plain repeat (same status) is dropped.
func TestAdv4RestatedFillWithFinalStatus(t *testing.T) {
	c := newConnFeed(t, ox)
	fill := okxOrderPush("partially_filled", "0.4", "-0.08", "")
	evs, err := c.feed(1, fill)
	require.NoError(t, err)
	n, q := fills(evs)
	require.Equal(t, 1, n)
	requireDigits(t, "0.4", q)

	evs, err = c.feed(2, fill) // the same push on a second connection
	require.NoError(t, err)
	require.Empty(t, evs)

	evs, err = c.feed(1, strings.Replace(fill, `"state":"partially_filled"`, `"state":"canceled"`, 1))
	require.NoError(t, err)
	require.Len(t, evs, 1, "the cancel is delivered")
	x := evs[0].Exec
	require.Equal(t, schema.StatusCanceled, x.Status)
	require.Equal(t, schema.ExecCanceled, x.ExecType)
	require.True(t, x.LastFillQty.IsZero())
	require.True(t, x.Fee.IsZero())
	requireDigits(t, "0.4", x.CumFillQty)

	evs, err = c.feed(2, strings.Replace(fill, `"state":"partially_filled"`, `"state":"canceled"`, 1))
	require.NoError(t, err)
	require.Empty(t, evs, "the cancel restated is a repeat")
}

// TestAdv4DerivativesPositionFields: a derivatives order's report names
// the position it works on and what its fill realised, as Binance's
// ORDER_TRADE_UPDATE does ("ps", "R", "rp"): Bybit "Order" positionIdx
// (0 one-way, 1 hedge-mode Buy side, 2 Sell side) and reduceOnly, Bybit
// "Execution" execPnl; OKX "Order channel" posSide, reduceOnly and
// fillPnl. A spot order has none.
func TestAdv4DerivativesPositionFields(t *testing.T) {
	evs, err := newConnFeed(t, by).feed(1, bybitOrder("New")) // linear, positionIdx 1, reduceOnly true
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, schema.PositionLong, evs[0].Exec.PositionSide)
	require.True(t, evs[0].Exec.ReduceOnly)

	spot := strings.Replace(bybitOrder("New"), `"category":"linear"`, `"category":"spot"`, 1)
	evs, err = newConnFeed(t, by).feed(1, spot)
	require.NoError(t, err)
	require.Equal(t, schema.PositionSideUnknown, evs[0].Exec.PositionSide)
	require.False(t, evs[0].Exec.ReduceOnly)

	odd := strings.Replace(bybitOrder("New"), `"positionIdx":1`, `"positionIdx":7`, 1)
	evs, err = newConnFeed(t, by).feed(1, odd)
	require.NoError(t, err, "an unknown positionIdx does not drop the report")
	require.Equal(t, schema.PositionSideUnknown, evs[0].Exec.PositionSide)

	exec := strings.Replace(bybitExec("Trade", "E-9", "1", "1"), `"execType":"Trade"`, `"execType":"Trade","execPnl":"-1.25"`, 1)
	evs, err = newConnFeed(t, by).feed(1, exec)
	require.NoError(t, err)
	requireDigits(t, "-1.25", evs[0].Exec.RealizedPnL)

	swap := strings.NewReplacer(`"instType":"SPOT"`, `"instType":"SWAP"`, `"tdMode":"cash"`, `"tdMode":"cross","posSide":"short","reduceOnly":"true","fillPnl":"3.5"`).
		Replace(okxOrderPush("partially_filled", "0.4", "-0.08", ""))
	evs, err = newConnFeed(t, ox).feed(1, swap)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	x := evs[0].Exec
	require.Equal(t, schema.PositionShort, x.PositionSide)
	require.True(t, x.ReduceOnly)
	requireDigits(t, "3.5", x.RealizedPnL)

	evs, err = newConnFeed(t, ox).feed(1, okxOrderPush("partially_filled", "0.4", "-0.08", ""))
	require.NoError(t, err)
	require.Equal(t, schema.PositionSideUnknown, evs[0].Exec.PositionSide, "spot")
}

// cbStep feeds a Coinbase user frame of order a1b2c3d4 (cumulative cum,
// leaves left, at 50000) on connection conn and returns the quantity its
// Trade reports fill.
func cbStep(t *testing.T, c *connFeed, conn uint64, typ, status, cum, leaves string) schema.Decimal {
	t.Helper()
	value, _ := dec(cum).Mul(dec("50000"))
	evs, err := c.feed(conn, string(coinbaseUser(typ, status, cum, leaves, value.String(), "0")))
	require.NoError(t, err)
	_, q := fills(evs)
	return q
}

// TestAdv4CoinbaseRotationFillsOnce: during a make-before-break rotation
// both connections carry the account's user channel (Coinbase Advanced
// Trade "User channel": every change of an order, with its cumulative
// quantities). Each fill is reported once, whichever connection says it
// first; the other connection's same report has grown nothing. (The
// parser kept its baseline per connection: each switch of connection
// made the order's next report look like its first, and its whole
// cumulative quantity a fill — 2.2 filled of an order of 1.)
func TestAdv4CoinbaseRotationFillsOnce(t *testing.T) {
	c := newConnFeed(t, cb)
	var total schema.Decimal
	for _, s := range []struct {
		conn                uint64
		typ, st, cum, leave string
	}{
		{1, "snapshot", "OPEN", "0", "1"},
		{2, "snapshot", "OPEN", "0", "1"},
		{1, "update", "OPEN", "0.4", "0.6"},
		{2, "update", "OPEN", "0.4", "0.6"},
		{2, "update", "OPEN", "0.7", "0.3"},
		{1, "update", "OPEN", "0.7", "0.3"},
		{1, "update", "FILLED", "1", "0"},
		{2, "update", "FILLED", "1", "0"},
	} {
		q := cbStep(t, c, s.conn, s.typ, s.st, s.cum, s.leave)
		total, _ = total.Add(q)
	}
	require.True(t, total.Equal(dec("1")), "the order's fills add up to its quantity, not %s", total)
}

// TestAdv4CoinbaseReconnectSnapshotGrowth: a new connection's snapshot
// restates the open orders with their cumulative quantities; an order the
// parser followed that was filled while no connection was up reports that
// growth as its fill (it was no fill of any earlier report), once.
func TestAdv4CoinbaseReconnectSnapshotGrowth(t *testing.T) {
	c := newConnFeed(t, cb)
	require.True(t, cbStep(t, c, 1, "snapshot", "OPEN", "0.2", "0.8").IsZero(), "a first snapshot is a baseline")
	requireDigits(t, "0.3", cbStep(t, c, 2, "snapshot", "OPEN", "0.5", "0.5"), "filled while disconnected")
	require.True(t, cbStep(t, c, 2, "update", "OPEN", "0.5", "0.5").IsZero())
	requireDigits(t, "0.5", cbStep(t, c, 2, "update", "FILLED", "1", "0"))
}

// TestAdv4KrakenRotationCompletes: Kraken sends only what changed (a
// "canceled" names the order and its cumulative fill); the fields it
// leaves out are the order's whichever connection reports it.
func TestAdv4KrakenRotationCompletes(t *testing.T) {
	c := newConnFeed(t, kr)
	_, err := c.feed(1, `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","symbol":"BTC/USD","order_qty":0.5,"side":"buy","order_type":"limit","limit_price":42000.1,"exec_type":"new","order_status":"new","timestamp":"2024-01-02T03:04:04.000000Z"}],"sequence":1}`)
	require.NoError(t, err)
	_, err = c.feed(2, `{"channel":"executions","type":"snapshot","data":[{"order_id":"OK-2","symbol":"ETH/USD","order_qty":1,"side":"sell","order_type":"limit","limit_price":3000,"exec_type":"new","order_status":"new","timestamp":"2024-01-02T03:04:04.000000Z"}],"sequence":1}`)
	require.NoError(t, err)
	evs, err := c.feed(1, `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","exec_type":"canceled","order_status":"canceled","cum_qty":0,"timestamp":"2024-01-02T03:04:06.000000Z"}],"sequence":2}`)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, "BTC-USD", evs[0].Symbol)
	require.Equal(t, schema.SideBuy, evs[0].Exec.Side)
	requireDigits(t, "0.5", evs[0].Exec.Qty)
}

// TestAdv4FollowedOrdersSwept: orders are followed across connections,
// so one that ended while no connection was up (its final report never
// came) would be followed for ever; once maxCoinbaseOrders or
// maxKrakenOrders are, those no report of the newest connection named are
// forgotten to make room, and a new order is followed.
func TestAdv4FollowedOrdersSwept(t *testing.T) {
	if testing.Short() {
		t.Skip("fills the order tables")
	}
	t.Run("coinbase", func(t *testing.T) {
		c := newConnFeed(t, cb)
		st := c.p.(*Parser).state.(*cbState)
		require.True(t, cbStep(t, c, 1, "update", "OPEN", "0", "1").IsZero())
		for i := len(st.orders.m); i < maxCoinbaseOrders; i++ {
			st.orders.m[strings.Repeat("x", 8)+string(rune('a'+i%26))+strconv.Itoa(i)] = &cbFilled{conn: 1}
		}
		require.Len(t, st.orders.m, maxCoinbaseOrders)
		msg := strings.Replace(string(coinbaseUser("update", "OPEN", "0.4", "0.6", "20000", "0")), `"a1b2c3d4"`, `"new-order"`, 1)
		evs, err := c.feed(2, msg)
		require.NoError(t, err)
		_, q := fills(evs)
		requireDigits(t, "0.4", q, "the new order is followed: its first report's fill is told")
		require.Len(t, st.orders.m, 1, "orders the newest connection never named are forgotten")
	})
	t.Run("kraken", func(t *testing.T) {
		c := newConnFeed(t, kr)
		st := c.p.(*Parser).state.(*krState)
		_, err := c.feed(1, `{"channel":"executions","type":"update","data":[{"order_id":"OK-0","symbol":"BTC/USD","order_qty":0.5,"side":"buy","exec_type":"new","order_status":"new","timestamp":"2024-01-02T03:04:04.000000Z"}],"sequence":1}`)
		require.NoError(t, err)
		for i := len(st.orders.m); i < maxKrakenOrders; i++ {
			st.orders.m["K-"+strconv.Itoa(i)] = &krOrder{conn: 1}
		}
		_, err = c.feed(2, `{"channel":"executions","type":"update","data":[{"order_id":"OK-9","symbol":"ETH/USD","order_qty":2,"side":"sell","exec_type":"new","order_status":"new","timestamp":"2024-01-02T03:04:04.000000Z"}],"sequence":1}`)
		require.NoError(t, err)
		require.Len(t, st.orders.m, 1)
		evs, err := c.feed(2, `{"channel":"executions","type":"update","data":[{"order_id":"OK-9","exec_type":"canceled","order_status":"canceled","timestamp":"2024-01-02T03:04:05.000000Z"}],"sequence":2}`)
		require.NoError(t, err)
		require.Equal(t, "ETH-USD", evs[0].Symbol)
	})
}

// TestAdv4CoinbaseStopTriggered: Coinbase Advanced Trade "User channel"
// trigger_status (STOP_PENDING, STOP_TRIGGERED): a stop-limit order's
// trigger is reported once, as ExecTriggered, like Binance's TRIGGERED
// and Bybit's Triggered; a second connection's same report does not
// repeat it.
func TestAdv4CoinbaseStopTriggered(t *testing.T) {
	c := newConnFeed(t, cb)
	stop := func(conn uint64, trigger string) schema.ExecType {
		msg := strings.NewReplacer(`"order_type":"LIMIT"`, `"order_type":"STOP_LIMIT","stop_price":"49000","trigger_status":"`+trigger+`"`).
			Replace(string(coinbaseUser("update", "OPEN", "0", "1", "0", "0")))
		evs, err := c.feed(conn, msg)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, schema.StatusNew, evs[0].Exec.Status)
		return evs[0].Exec.ExecType
	}
	require.Equal(t, schema.ExecNew, stop(1, "STOP_PENDING"))
	require.Equal(t, schema.ExecTriggered, stop(1, "STOP_TRIGGERED"))
	require.Equal(t, schema.ExecNew, stop(2, "STOP_TRIGGERED"), "the trigger is told once")
	require.Equal(t, schema.ExecNew, stop(1, "STOP_TRIGGERED"))
}
