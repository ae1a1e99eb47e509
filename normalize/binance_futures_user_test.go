package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestBinanceFuturesOrderTradeUpdate: USDⓈ-M's ORDER_TRADE_UPDATE is an
// execution report, not "unknown" (Binance USDⓈ-M "Event: Order Update").
func TestBinanceFuturesOrderTradeUpdate(t *testing.T) {
	t.Parallel()
	evs := handle(t, "futures_order_trade_update")
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, schema.EventExecReport, ev.Type)
	require.Equal(t, "BTC-USDT", ev.Symbol)
	require.Equal(t, int64(1568879465651)*ms, ev.ExchangeTS)
	x := ev.Exec
	require.NotNil(t, x, "an execution report carries Exec")
	require.Equal(t, "TEST", x.ClientOrderID.String())
	require.Equal(t, "8886774", x.VenueOrderID.String())
	require.Equal(t, "12345", x.TradeID.String())
	require.Equal(t, schema.SideSell, x.Side)
	require.Equal(t, schema.OrderTypeLimit, x.Type)
	require.Equal(t, schema.ExecTrade, x.ExecType)
	require.Equal(t, schema.StatusPartiallyFilled, x.Status)
	requireDigits(t, "7103.04", x.LastFillPrice)
	requireDigits(t, "0.001", x.LastFillQty)
	requireDigits(t, "0.001", x.RemainingQty)
	requireDigits(t, "0.00284121", x.Fee)
	require.Equal(t, "USDT", x.FeeAsset.String())
	require.True(t, x.IsMaker)
	require.Equal(t, int64(1568879465650)*ms, x.TransactTime)
	require.Equal(t, schema.PositionBoth, x.PositionSide)
	require.False(t, x.ReduceOnly)
	requireDigits(t, "0", x.RealizedPnL)
}

// TestBinanceFuturesOrderFields: every field of ORDER_TRADE_UPDATE the
// schema holds, on the documented shapes (USDⓈ-M and COIN-M "Event: Order
// Update"): the derivatives fields rp, ps and R; ot over o; a trailing
// stop's sp ignored; CALCULATED (a liquidation's execution) as a trade.
func TestBinanceFuturesOrderFields(t *testing.T) {
	t.Parallel()
	type want struct {
		symbol, client, trade, stop, avg, last, lastPx, cum, rem, fee, feeAsset, pnl string
		typ                                                                          schema.OrderType
		tif                                                                          schema.TimeInForce
		exec                                                                         schema.ExecType
		status                                                                       schema.OrderStatus
		side                                                                         schema.Side
		pos                                                                          schema.PositionSide
		reduce                                                                       bool
		ts, transact                                                                 int64
	}
	for _, tt := range []struct {
		name string
		want want
	}{
		{"futures_order_trailing", want{symbol: "BTC-USDT", client: "TEST", stop: "0", avg: "0", last: "0", lastPx: "0", cum: "0", rem: "0.001", fee: "0", feeAsset: "USDT", pnl: "0",
			typ: schema.OrderTypeTrailingStop, tif: schema.TIFGTC, exec: schema.ExecNew, status: schema.StatusNew, side: schema.SideSell, pos: schema.PositionLong,
			ts: 1568879465651 * ms, transact: 1568879465650 * ms}},
		{"coinm_order_trade_update", want{symbol: "BTC-USD-200925", client: "TEST", stop: "0", avg: "0", last: "0", lastPx: "0", cum: "0", rem: "2", fee: "0", feeAsset: "BTC", pnl: "0",
			typ: schema.OrderTypeTrailingStop, tif: schema.TIFGTC, exec: schema.ExecNew, status: schema.StatusNew, side: schema.SideSell, pos: schema.PositionLong,
			ts: 1591274595442 * ms, transact: 1591274595442 * ms}},
		{"futures_order_fill_reduce", want{symbol: "BTC-USDT", client: "bot-close-7", trade: "273796610", stop: "0", avg: "39444.20000", last: "0.046", lastPx: "39444.20", cum: "0.046", rem: "0.000", fee: "0.72577328", feeAsset: "USDT", pnl: "-12.34560000",
			typ: schema.OrderTypeMarket, tif: schema.TIFGTC, exec: schema.ExecTrade, status: schema.StatusFilled, side: schema.SideBuy, pos: schema.PositionShort, reduce: true,
			ts: 1701552372881 * ms, transact: 1701552372880 * ms}},
		{"futures_order_stop_triggered", want{symbol: "BTC-USDT", client: "bot-stop-3", trade: "273796700", stop: "38100", avg: "38100.10", last: "0.010", lastPx: "38100.10", cum: "0.010", rem: "0.000", fee: "0.15240040", feeAsset: "USDT", pnl: "-13.20000000",
			typ: schema.OrderTypeStopLoss, tif: schema.TIFGTC, exec: schema.ExecTrade, status: schema.StatusFilled, side: schema.SideSell, pos: schema.PositionBoth, reduce: true,
			ts: 1701552372990 * ms, transact: 1701552372989 * ms}},
		{"futures_order_calculated", want{symbol: "ETH-USDT", client: "autoclose-1701600000099123", stop: "0", avg: "170.52", last: "1.327", lastPx: "170.52", cum: "1.327", rem: "0.000", fee: "0", feeAsset: "USDT", pnl: "-22.28223000",
			typ: schema.OrderTypeLiquidation, tif: schema.TIFIOC, exec: schema.ExecTrade, status: schema.StatusFilled, side: schema.SideSell, pos: schema.PositionBoth,
			ts: 1701600000101 * ms, transact: 1701600000100 * ms}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			evs := handle(t, tt.name)
			require.Len(t, evs, 1)
			ev, w := evs[0], tt.want
			require.Equal(t, schema.EventExecReport, ev.Type)
			require.Equal(t, w.symbol, ev.Symbol)
			require.Equal(t, w.ts, ev.ExchangeTS)
			x := ev.Exec
			require.NotNil(t, x, "an execution report carries Exec")
			require.Equal(t, w.client, x.ClientOrderID.String())
			require.Equal(t, w.trade, x.TradeID.String())
			require.Equal(t, w.typ, x.Type)
			require.Equal(t, w.tif, x.TimeInForce)
			require.Equal(t, w.exec, x.ExecType)
			require.Equal(t, w.status, x.Status)
			require.Equal(t, w.side, x.Side)
			require.Equal(t, w.pos, x.PositionSide)
			require.Equal(t, w.reduce, x.ReduceOnly)
			requireDigits(t, w.stop, x.StopPrice, "StopPrice")
			requireDigits(t, w.avg, x.AvgPrice, "AvgPrice")
			requireDigits(t, w.last, x.LastFillQty, "LastFillQty")
			requireDigits(t, w.lastPx, x.LastFillPrice, "LastFillPrice")
			requireDigits(t, w.cum, x.CumFillQty, "CumFillQty")
			requireDigits(t, w.rem, x.RemainingQty, "RemainingQty")
			requireDigits(t, w.fee, x.Fee, "Fee")
			require.Equal(t, w.feeAsset, x.FeeAsset.String())
			requireDigits(t, w.pnl, x.RealizedPnL, "RealizedPnL")
			require.Equal(t, w.transact, x.TransactTime)
			require.Empty(t, x.RejectReason)
		})
	}
}

// TestBinanceFuturesOrderWords: each documented execution type and status
// of ORDER_TRADE_UPDATE maps to its schema value (a word Binance may add:
// TestAdv4BinanceUnknownWords).
func TestBinanceFuturesOrderWords(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		x, X   string
		exec   schema.ExecType
		status schema.OrderStatus
	}{
		{"NEW", "NEW", schema.ExecNew, schema.StatusNew},
		{"TRADE", "PARTIALLY_FILLED", schema.ExecTrade, schema.StatusPartiallyFilled},
		{"TRADE", "FILLED", schema.ExecTrade, schema.StatusFilled},
		{"CANCELED", "CANCELED", schema.ExecCanceled, schema.StatusCanceled},
		{"EXPIRED", "EXPIRED", schema.ExecExpired, schema.StatusExpired},
		{"EXPIRED", "EXPIRED_IN_MATCH", schema.ExecExpired, schema.StatusExpiredInMatch},
		{"AMENDMENT", "NEW", schema.ExecAmendment, schema.StatusNew},
		{"CALCULATED", "FILLED", schema.ExecTrade, schema.StatusFilled},
	} {
		p, sink, _ := newRecParser(t, nil)
		last, lastPx := "0", "0"
		if tt.exec == schema.ExecTrade { // a fill has a quantity and a price
			last, lastPx = "1", "2"
		}
		msg := `{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT","c":"a","S":"BUY","o":"LIMIT","f":"GTX","q":"1","p":"2","x":"` + tt.x + `","X":"` + tt.X + `","i":3,"l":"` + last + `","z":"` + last + `","L":"` + lastPx + `","T":1,"t":0,"ps":"HEDGE?"}}`
		require.NoError(t, p.HandleBytes(context.Background(), []byte(msg), 1), tt.x)
		require.Len(t, sink.got, 1)
		x := sink.got[0].Exec
		require.Equal(t, tt.exec, x.ExecType, tt.x)
		require.Equal(t, tt.status, x.Status, tt.X)
		require.Equal(t, schema.TIFGTX, x.TimeInForce)
		require.Equal(t, schema.PositionSideUnknown, x.PositionSide, "an unknown position side is Unknown, not a dropped report")
	}
}

// TestBinanceAlgoUpdate: ALGO_UPDATE is the conditional order's execution
// report (Binance USDⓈ-M "Event: Algo Order Update"): every documented
// algo status is an ExecType and a Status a strategy can act on.
func TestBinanceAlgoUpdate(t *testing.T) {
	t.Parallel()
	evs := handle(t, "algo_update")
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, schema.EventExecReport, ev.Type)
	require.Equal(t, "BNB-USDT", ev.Symbol)
	require.Equal(t, int64(1750515742303)*ms, ev.ExchangeTS)
	x := ev.Exec
	require.NotNil(t, x, "an execution report carries Exec")
	require.Equal(t, "Q5xaq5EGKgXXa0fD7fs0Ip", x.ClientOrderID.String())
	require.Equal(t, "2148719", x.VenueOrderID.String())
	require.Equal(t, schema.OrderTypeTakeProfitLimit, x.Type)
	require.Equal(t, schema.SideSell, x.Side)
	require.Equal(t, schema.PositionBoth, x.PositionSide)
	require.Equal(t, schema.TIFGTC, x.TimeInForce)
	require.Equal(t, schema.ExecCanceled, x.ExecType)
	require.Equal(t, schema.StatusCanceled, x.Status)
	requireDigits(t, "0.01", x.Qty)
	requireDigits(t, "750", x.Price)
	requireDigits(t, "750", x.StopPrice)
	requireDigits(t, "0.00000", x.CumFillQty)
	requireDigits(t, "0.00000", x.AvgPrice)
	require.True(t, x.LastFillQty.IsZero(), "an algo update never carries a fill")
	require.Equal(t, "Reduce Only reject", x.RejectReason)
	require.Equal(t, int64(1750515742297)*ms, x.TransactTime)
	require.False(t, x.ReduceOnly)

	for _, tt := range []struct {
		X      string
		exec   schema.ExecType
		status schema.OrderStatus
	}{
		{"NEW", schema.ExecNew, schema.StatusNew},
		{"CANCELED", schema.ExecCanceled, schema.StatusCanceled},
		{"REJECTED", schema.ExecRejected, schema.StatusRejected},
		{"EXPIRED", schema.ExecExpired, schema.StatusExpired},
		{"TRIGGERING", schema.ExecTriggered, schema.StatusNew},
		{"TRIGGERED", schema.ExecTriggered, schema.StatusNew},
		{"FINISHED", schema.ExecOrderStatus, schema.StatusFilled}, // aq 0.2 of q 0.2
	} {
		p, sink, _ := newRecParser(t, nil)
		msg := `{"e":"ALGO_UPDATE","T":1,"E":2,"o":{"caid":"sl-1","aid":1000000202490585,"at":"CONDITIONAL","o":"STOP_MARKET","s":"BTCUSDT","S":"SELL","ps":"SHORT","f":"GTE_GTC","q":"0.2","X":"` + tt.X + `","ai":"77","ap":"191.5","aq":"0.2","tp":"190","p":"0","R":true,"tt":3}}`
		require.NoError(t, p.HandleBytes(context.Background(), []byte(msg), 1), tt.X)
		require.Len(t, sink.got, 1)
		x := sink.got[0].Exec
		require.Equal(t, tt.exec, x.ExecType, tt.X)
		require.Equal(t, tt.status, x.Status, tt.X)
		require.Equal(t, "1000000202490585", x.VenueOrderID.String())
		require.Equal(t, schema.OrderTypeStopLoss, x.Type)
		require.Equal(t, schema.TIFGTC, x.TimeInForce, "GTE_GTC rests until canceled (or its position is gone): GTC")
		require.Equal(t, schema.PositionShort, x.PositionSide)
		require.True(t, x.ReduceOnly)
		requireDigits(t, "190", x.StopPrice)
		requireDigits(t, "0.2", x.CumFillQty)
		requireDigits(t, "191.5", x.AvgPrice)
		requireDigits(t, "0.0", x.RemainingQty)
		require.Empty(t, x.RejectReason)
	}
}

// TestBinanceTriggerReject: a refused conditional-order trigger is a
// rejected execution report of the order (Binance USDⓈ-M "Event:
// Conditional Order Trigger Reject"), its reason kept whole.
func TestBinanceTriggerReject(t *testing.T) {
	t.Parallel()
	evs := handle(t, "conditional_order_trigger_reject")
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, schema.EventExecReport, ev.Type)
	require.Equal(t, "ETH-USDT", ev.Symbol)
	require.Equal(t, int64(1685517224945)*ms, ev.ExchangeTS)
	x := ev.Exec
	require.NotNil(t, x, "an execution report carries Exec")
	require.Equal(t, "155618472834", x.VenueOrderID.String())
	require.Equal(t, schema.ExecRejected, x.ExecType)
	require.Equal(t, schema.StatusRejected, x.Status)
	require.Equal(t, "Due to the order could not be filled immediately, the FOK order has been rejected. The order will not be recorded in the order history", x.RejectReason)
	require.Equal(t, int64(1685517224955)*ms, x.TransactTime)
}

// TestBinanceIgnoredMessages: messages the parser knows and skips on
// purpose are counted as ignored, never as unknown, publish nothing and
// cost nothing: TRADE_LITE (its fill comes once, from ORDER_TRADE_UPDATE),
// STRATEGY_UPDATE, GRID_UPDATE and spot listStatus, raw or wrapped.
func TestBinanceIgnoredMessages(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"trade_lite", "strategy_update", "grid_update", "listStatus", "listStatus_wrapped"} {
		p, sink, _ := newRecParser(t, nil)
		require.NoError(t, p.HandleBytes(context.Background(), fixture(t, name), 1), name)
		require.Empty(t, sink.got, name)
		st := p.Stats()
		require.Equal(t, Stats{Messages: 1, Ignored: 1}, st, name)
	}
}

// TestBinanceTradeLiteNotTwice: TRADE_LITE and ORDER_TRADE_UPDATE of one
// fill (same order id "i" and trade id "t") reach the host once.
func TestBinanceTradeLiteNotTwice(t *testing.T) {
	t.Parallel()
	p, sink, _ := newRecParser(t, nil)
	ctx := context.Background()
	lite := fixture(t, "trade_lite") // i 8886774, t 109100866, l 0.040
	full := []byte(`{"e":"ORDER_TRADE_UPDATE","E":1721895408093,"T":1721895408214,"o":{"s":"BTCUSDT","c":"z8hcUoOsqEdKMeKPSABslD","S":"BUY","o":"MARKET","f":"GTC","q":"0.001","p":"0","ap":"64089.20","sp":"0","x":"TRADE","X":"FILLED","i":8886774,"l":"0.040","z":"0.040","L":"64089.20","N":"USDT","n":"1.02542720","T":1721895408214,"t":109100866,"m":false,"R":false,"ot":"MARKET","ps":"BOTH","rp":"0"}}`)
	require.NoError(t, p.HandleBytes(ctx, lite, 1))
	require.NoError(t, p.HandleBytes(ctx, full, 2))
	require.Len(t, sink.got, 1)
	x := sink.got[0].Exec
	require.Equal(t, "109100866", x.TradeID.String())
	requireDigits(t, "0.040", x.LastFillQty)
	requireDigits(t, "1.02542720", x.Fee)
}

// TestBinanceStreamEndWrappers: eventStreamTerminated reaches the host as
// a control event whichever wrapper carries it, with or without
// subscriptionId (Binance spot "User Data Streams": "Event Stream
// Terminated").
func TestBinanceStreamEndWrappers(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{
		`{"event":{"e":"eventStreamTerminated","E":1728973001334}}`,
		`{"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1728973001334}}`,
		"{\n  \"event\": {\n    \"e\": \"eventStreamTerminated\",\n    \"E\": 1728973001334\n  }\n}",
		"{ \"subscriptionId\": 0,\n  \"event\": { \"e\": \"eventStreamTerminated\", \"E\": 1728973001334 } }",
	} {
		p, sink, _ := newRecParser(t, nil)
		require.NoError(t, p.HandleBytes(context.Background(), []byte(msg), 1), msg)
		require.Len(t, sink.got, 1, msg)
		ev := sink.got[0]
		require.Equal(t, schema.EventControl, ev.Type)
		require.Equal(t, schema.ControlVenueError, ev.Control.Kind)
		require.Equal(t, "eventStreamTerminated", ev.Control.Reason)
		require.Equal(t, int64(1728973001334)*ms, ev.ExchangeTS)
		require.Zero(t, p.Stats().Unknown)
	}
}

// TestBinanceSpotExpiryReason: an expired spot order's "eR" is its
// RejectReason when "r" says NONE.
func TestBinanceSpotExpiryReason(t *testing.T) {
	t.Parallel()
	evs := handle(t, "exec_expired_reason")
	require.Len(t, evs, 1)
	x := evs[0].Exec
	require.Equal(t, schema.ExecExpired, x.ExecType)
	require.Equal(t, schema.StatusExpired, x.Status)
	require.Equal(t, "INSUFFICIENT_LIQUIDITY", x.RejectReason)
	require.Equal(t, schema.OrderTypeMarket, x.Type)
	require.True(t, x.TradeID.IsZero(), `"t" -1 is no trade`)
	require.True(t, x.FeeAsset.IsZero(), `"N" null is no fee asset`)
	require.True(t, x.OrigClientOrderID.IsZero(), `"C" "" is no original order`)
	requireDigits(t, "0.40000000", x.CumFillQty)
	requireDigits(t, "0.04105764", x.CumQuoteQty)
	requireDigits(t, "0.00000000", x.RemainingQty, "expired: nothing open (FIX LeavesQty)")
	require.Equal(t, schema.PositionSideUnknown, x.PositionSide, "spot has no position side")
}
