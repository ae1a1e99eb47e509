package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// krakenExecPush is a Kraken Spot WebSocket v2 "Executions" update of
// order OK-1 with exec_type typ and order_status status, no fill.
func krakenExecPush(typ, status string) string {
	return `{"channel":"executions","type":"update","data":[{"exec_type":"` + typ + `","order_id":"OK-1","symbol":"BTC/USD","side":"buy","order_type":"limit",` +
		`"order_qty":0.5,"limit_price":42000.1,"cum_qty":0.2,"order_status":"` + status + `","timestamp":"2024-01-02T03:04:06.000000Z"}],"sequence":3}`
}

// A report that only states where an order stands, or that tells the
// venue changed the order on its own, reached the host with ExecType
// Unknown, which a strategy cannot tell from a report the parser did not
// understand. Each venue's documented status-only report is now
// ExecOrderStatus (FIX ExecType I) and its restatement ExecRestated (FIX
// ExecType D); the status is the venue's, and none carries a fill.
func TestS35StatusOnlyReportsNamed(t *testing.T) {
	okxFill := okxOrderPush("partially_filled", "0.4", "-0.01", "")
	bybitFull := `{"id":"1","topic":"execution","creationTime":1716800399340,"data":[{"category":"linear","symbol":"ICPUSDT","execFee":"0.5","execId":"3510f361-0add-5c7b-a2e7-9679810944fc","execPrice":"12.015","execQty":"1000","execType":"Trade","isMaker":false,"leavesQty":"2000","orderId":"443d63fa-b4c3-4297-b7b1-23bca88b04dc","orderLinkId":"test-00001","orderPrice":"12.015","orderQty":"3000","orderType":"Limit","side":"Sell","execTime":"1716800399334","seq":34771365464}]}`
	for _, c := range []struct {
		name   string
		np     newParserFunc
		frames []string // the last one's report is checked
		exec   schema.ExecType
		status schema.OrderStatus
	}{
		// Kraken "Executions": exec_type filled ("a separate exec_type:
		// filled update reports completion") and status (a change of the
		// order's status); restated and iceberg_refill: the engine changed
		// the order.
		{"kraken filled", NewKraken, []string{krakenExecPush("filled", "filled")}, schema.ExecOrderStatus, schema.StatusFilled},
		{"kraken status", NewKraken, []string{krakenExecPush("status", "partially_filled")}, schema.ExecOrderStatus, schema.StatusPartiallyFilled},
		{"kraken restated", NewKraken, []string{krakenExecPush("restated", "new")}, schema.ExecRestated, schema.StatusNew},
		{"kraken iceberg_refill", NewKraken, []string{krakenExecPush("iceberg_refill", "partially_filled")}, schema.ExecRestated, schema.StatusPartiallyFilled},
		// Bybit v5 "Order": the order topic's PartiallyFilled and Filled
		// carry no fill (the execution topic's).
		{"bybit order PartiallyFilled", NewBybit, []string{bybitOrderPush("o-7", "PartiallyFilled", "100", "2", "0", "1", "1")}, schema.ExecOrderStatus, schema.StatusPartiallyFilled},
		{"bybit order Filled", NewBybit, []string{bybitOrderPush("o-7", "Filled", "100", "2", "0", "2", "0")}, schema.ExecOrderStatus, schema.StatusFilled},
		// Bybit v5 "Execution" after "Fast Execution" of the same fill:
		// the fill is the fast push's; the full report tells the status.
		{"bybit full after fast", NewBybit, []string{bybitFast("execution.fast", "linear", "ICPUSDT", "test-00001", false), bybitFull}, schema.ExecOrderStatus, schema.StatusPartiallyFilled},
		// OKX "Order channel": a push of a partly filled or filled order
		// without a fill (fillSz "0"), and a push that repeats the last
		// fill beside the order's new final state.
		{"okx partially_filled no fill", NewOKX, []string{okxOrderPush("partially_filled", "0", "0", "")}, schema.ExecOrderStatus, schema.StatusPartiallyFilled},
		{"okx fill repeated, filled", NewOKX, []string{okxFill, strings.Replace(okxFill, `"state":"partially_filled"`, `"state":"filled"`, 1)}, schema.ExecOrderStatus, schema.StatusFilled},
		// OKX "Advance algo orders channel": state pause.
		{"okx algo pause", NewOKX, []string{okxAlgo("algo-advance", "pause")}, schema.ExecOrderStatus, schema.StatusNew},
		// Coinbase "User channel": the snapshot of a partly filled order,
		// and an update of a filled order with no growth since.
		{"coinbase snapshot partly filled", NewCoinbase, []string{string(coinbaseUser("snapshot", "OPEN", "0.1", "0.9", "5000.00", "1.00"))}, schema.ExecOrderStatus, schema.StatusPartiallyFilled},
		{"coinbase filled restated", NewCoinbase, []string{string(coinbaseUser("update", "OPEN", "0.4", "0.6", "20000.00", "4.00")), string(coinbaseUser("update", "FILLED", "0.4", "0", "20000.00", "4.00"))}, schema.ExecOrderStatus, schema.StatusFilled},
		// Binance USDⓈ-M "Event: Algo Order Update": FINISHED, filled.
		{"binance algo finished filled", NewBinance, []string{`{"e":"ALGO_UPDATE","T":1,"E":2,"o":{"caid":"sl-1","aid":1000000202490585,"at":"CONDITIONAL","o":"STOP_MARKET","s":"BTCUSDT","S":"SELL","ps":"SHORT","f":"GTE_GTC","q":"0.2","X":"FINISHED","ai":"77","ap":"191.5","aq":"0.2","tp":"190","p":"0","R":true,"tt":3}}`}, schema.ExecOrderStatus, schema.StatusFilled},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, got := feedFrames(t, c.np, nil, c.frames, schema.EventExecReport)
			require.NotEmpty(t, got)
			x := got[len(got)-1].Exec
			assert.Equal(t, c.exec.String(), x.ExecType.String())
			assert.Equal(t, c.status.String(), x.Status.String())
			assert.True(t, x.LastFillQty.IsZero() && x.TradeID.IsZero(), "no fill")
			assert.Zero(t, p.Stats().Errors)
		})
	}
}

// A repeated fill beside an order's new final state is delivered as that
// state's report without the fill: EXPIRED_IN_MATCH (Binance: the order
// expired by self-trade prevention, x TRADE_PREVENTION) was ExecExpired,
// the venue's own word and the session's reconciliation say
// TradePrevention.
func TestS35WithoutFillExecTypes(t *testing.T) {
	for st, want := range map[schema.OrderStatus]schema.ExecType{
		schema.StatusExpiredInMatch: schema.ExecTradePrevention, schema.StatusExpired: schema.ExecExpired,
		schema.StatusCanceled: schema.ExecCanceled, schema.StatusRejected: schema.ExecRejected,
		schema.StatusFilled: schema.ExecOrderStatus, schema.StatusPartiallyFilled: schema.ExecOrderStatus,
		schema.StatusNew: schema.ExecOrderStatus,
	} {
		x := schema.Execution{ExecType: schema.ExecTrade, Status: st, LastFillQty: dec("1"), TradeID: schema.MustID("7")}
		withoutFill(&x)
		assert.Equal(t, want.String(), x.ExecType.String(), st.String())
		assert.True(t, x.LastFillQty.IsZero() && x.TradeID.IsZero())
	}
}

// OKX "Order channel": amendResult "-1" is an amendment that failed; the
// order is as it was. Its push of a working order said ExecNew, a second
// New of an order the host knows working: it only states the order's
// status, with the failure in RejectReason.
func TestS35OKXFailedAmendmentIsStatus(t *testing.T) {
	for _, state := range []string{"live", "partially_filled"} {
		_, got := feedFrames(t, NewOKX, nil, []string{okxOrderPush(state, "0", "0", "-1")}, schema.EventExecReport)
		require.Len(t, got, 1)
		x := got[0].Exec
		assert.Equal(t, schema.ExecOrderStatus.String(), x.ExecType.String(), state)
		assert.Equal(t, "px too far", x.RejectReason, state)
	}
}
