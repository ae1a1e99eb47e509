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
