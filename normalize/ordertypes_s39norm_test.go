package normalize

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Every order type a venue documents for its execution reports has a
// canonical value; before s39norm the ones the schema lacked (trailing
// stops, liquidations, brackets, settle-position) and the conditional
// types Bybit and OKX say beside the base type were Unknown — or, for
// Bybit's conditional orders, the plain Market or Limit of the order they
// place, a stop read as an order that works at once. Each case failed
// before (Unknown, or Market/Limit for Bybit).

// TestS39normBinanceFuturesOrderTypes: Binance USDⓈ-M "Event: Order
// Update" lists LIMIT, MARKET, STOP, STOP_MARKET, TAKE_PROFIT,
// TAKE_PROFIT_MARKET, TRAILING_STOP_MARKET, LIQUIDATION (COIN-M: MARKET,
// LIMIT, STOP, TAKE_PROFIT, LIQUIDATION).
func TestS39normBinanceFuturesOrderTypes(t *testing.T) {
	for word, want := range map[string]schema.OrderType{
		"LIMIT": schema.OrderTypeLimit, "MARKET": schema.OrderTypeMarket, "STOP": schema.OrderTypeStopLossLimit,
		"STOP_MARKET": schema.OrderTypeStopLoss, "TAKE_PROFIT": schema.OrderTypeTakeProfitLimit,
		"TAKE_PROFIT_MARKET": schema.OrderTypeTakeProfit, "TRAILING_STOP_MARKET": schema.OrderTypeTrailingStop,
		"LIQUIDATION": schema.OrderTypeLiquidation,
	} {
		p, sink, _ := newRecParser(t, nil)
		msg := `{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT","c":"autoclose-1","S":"SELL","o":"` + word + `","f":"GTC","q":"1","p":"0","sp":"0","x":"NEW","X":"NEW","i":3,"l":"0","z":"0","L":"0","T":1,"t":0,"ps":"BOTH","ot":"` + word + `"}}`
		require.NoError(t, p.HandleBytes(context.Background(), []byte(msg), 1), word)
		require.Len(t, sink.got, 1, word)
		assert.Equal(t, want, sink.got[0].Exec.Type, word)
	}
}

// TestS39normKrakenOrderTypes: Kraken v2 "add_order" and "executions"
// order_type: limit, market, iceberg, stop-loss, stop-loss-limit,
// take-profit, take-profit-limit, trailing-stop, trailing-stop-limit,
// settle-position.
func TestS39normKrakenOrderTypes(t *testing.T) {
	for word, want := range map[string]schema.OrderType{
		"limit": schema.OrderTypeLimit, "market": schema.OrderTypeMarket, "iceberg": schema.OrderTypeLimit,
		"stop-loss": schema.OrderTypeStopLoss, "stop-loss-limit": schema.OrderTypeStopLossLimit,
		"take-profit": schema.OrderTypeTakeProfit, "take-profit-limit": schema.OrderTypeTakeProfitLimit,
		"trailing-stop": schema.OrderTypeTrailingStop, "trailing-stop-limit": schema.OrderTypeTrailingStopLimit,
		"settle-position": schema.OrderTypeSettlePosition,
	} {
		f := newConnFeed(t, schema.VenueKraken)
		evs, err := f.feed(1, `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","symbol":"BTC/USD","order_qty":0.5,"side":"buy","order_type":"`+word+`","limit_price":42000.1,"exec_type":"new","order_status":"new","timestamp":"2024-01-02T03:04:04.000000Z"}],"sequence":1}`)
		require.NoError(t, err, word)
		require.Len(t, evs, 1, word)
		assert.Equal(t, want, evs[0].Exec.Type, word)
	}
}

// TestS39normCoinbaseOrderTypes: Coinbase Advanced Trade's order_type
// (List Orders, "UNKNOWN_ORDER_TYPE, MARKET, LIMIT, STOP, STOP_LIMIT,
// BRACKET"), in the user channel's upper and title case.
func TestS39normCoinbaseOrderTypes(t *testing.T) {
	for word, want := range map[string]schema.OrderType{
		"LIMIT": schema.OrderTypeLimit, "MARKET": schema.OrderTypeMarket, "STOP_LIMIT": schema.OrderTypeStopLossLimit,
		"STOP": schema.OrderTypeStopLoss, "Stop": schema.OrderTypeStopLoss,
		"BRACKET": schema.OrderTypeBracket, "Bracket": schema.OrderTypeBracket,
	} {
		f := newConnFeed(t, schema.VenueCoinbase)
		msg := strings.Replace(string(coinbaseUser("snapshot", "OPEN", "0", "1", "0", "0")), `"order_type":"LIMIT"`, `"order_type":"`+word+`"`, 1)
		evs, err := f.feed(1, msg)
		require.NoError(t, err, word)
		require.NotEmpty(t, evs, word)
		assert.Equal(t, want, evs[len(evs)-1].Exec.Type, word)
	}
}

// TestS39normBybitStopOrderTypes: Bybit v5 "Enums → stopOrderType"
// (TakeProfit, StopLoss, TrailingStop, Stop, PartialTakeProfit,
// PartialStopLoss, tpslOrder, OcoOrder, MmRateClose,
// BidirectionalTpslOrder) says a conditional order's kind beside its
// orderType (Market or Limit: the order placed once triggered), on the
// order and execution topics and in /order/realtime.
func TestS39normBybitStopOrderTypes(t *testing.T) {
	for _, c := range []struct {
		stop, typ string
		want      schema.OrderType
	}{
		{"UNKNOWN", "Limit", schema.OrderTypeLimit}, {"", "Market", schema.OrderTypeMarket},
		{"Stop", "Market", schema.OrderTypeStopLoss}, {"Stop", "Limit", schema.OrderTypeStopLossLimit},
		{"StopLoss", "Market", schema.OrderTypeStopLoss}, {"PartialStopLoss", "Limit", schema.OrderTypeStopLossLimit},
		{"tpslOrder", "Limit", schema.OrderTypeStopLossLimit},
		{"TakeProfit", "Market", schema.OrderTypeTakeProfit}, {"PartialTakeProfit", "Limit", schema.OrderTypeTakeProfitLimit},
		{"TrailingStop", "Market", schema.OrderTypeTrailingStop},
		// two legs (OCO, bidirectional TP/SL) or a close at a margin rate:
		// no one canonical kind; the placed order's type stays
		{"OcoOrder", "Limit", schema.OrderTypeLimit}, {"BidirectionalTpslOrder", "Market", schema.OrderTypeMarket},
		{"MmRateClose", "Market", schema.OrderTypeMarket},
	} {
		f := newConnFeed(t, schema.VenueBybit)
		msg := strings.Replace(s37normBybitOrder("Untriggered", "100", "1672364262474", "1672364262457"),
			`"orderType":"Limit"`, `"orderType":"`+c.typ+`","stopOrderType":"`+c.stop+`","triggerPrice":"99"`, 1)
		if c.typ == "Market" {
			msg = strings.Replace(msg, `"price":"100"`, `"price":"0"`, 1)
		}
		evs, err := f.feed(1, msg)
		require.NoError(t, err, c.stop)
		require.Len(t, evs, 1, c.stop)
		assert.Equal(t, c.want, evs[0].Exec.Type, c.stop+" "+c.typ)

		exec := `{"id":"2","topic":"execution","creationTime":1716800399340,"data":[{"category":"linear","symbol":"BTCUSDT","execFee":"0.5","execId":"e-` + c.stop + `","execPrice":"12.015","execQty":"1","execType":"Trade","execValue":"12.015","isMaker":false,"feeRate":"0.0006","leavesQty":"0","orderId":"5cf98598","orderLinkId":"x1","orderPrice":"12.015","orderQty":"1","orderType":"` + c.typ + `","stopOrderType":"` + c.stop + `","side":"Sell","execTime":"1716800399334","isLeverage":"0","seq":34771365464}]}`
		evs, err = f.feed(1, exec)
		require.NoError(t, err, c.stop)
		require.Len(t, evs, 1, c.stop)
		assert.Equal(t, c.want, evs[0].Exec.Type, "execution topic: "+c.stop+" "+c.typ)
	}
}

// TestS39normOKXAlgoOrderTypes: OKX v5 "Algo orders channel" ordType:
// conditional (one-way stop: a take-profit or a stop-loss; both legs set
// is two orders in one), oco, trigger, move_order_stop (trailing), chase,
// twap, iceberg. ordPx, slOrdPx, tpOrdPx "-1" place a market order.
func TestS39normOKXAlgoOrderTypes(t *testing.T) {
	for _, c := range []struct {
		name string
		repl []string
		want schema.OrderType
	}{
		{"trigger at market", nil, schema.OrderTypeStopLoss},
		{"trigger at a limit", []string{`"ordPx":"-1"`, `"ordPx":"29990"`}, schema.OrderTypeStopLossLimit},
		{"move_order_stop", []string{`"ordType":"trigger"`, `"ordType":"move_order_stop"`, `"triggerPx":"30000"`, `"triggerPx":"","moveTriggerPx":"30000","callbackRatio":"0.05"`}, schema.OrderTypeTrailingStop},
		{"conditional stop-loss", []string{`"ordType":"trigger"`, `"ordType":"conditional"`, `"slOrdPx":""`, `"slOrdPx":"-1"`, `"slTriggerPx":""`, `"slTriggerPx":"29000"`, `"triggerPx":"30000"`, `"triggerPx":""`}, schema.OrderTypeStopLoss},
		{"conditional stop-loss limit", []string{`"ordType":"trigger"`, `"ordType":"conditional"`, `"slOrdPx":""`, `"slOrdPx":"28900"`, `"slTriggerPx":""`, `"slTriggerPx":"29000"`, `"triggerPx":"30000"`, `"triggerPx":""`}, schema.OrderTypeStopLossLimit},
		{"conditional take-profit", []string{`"ordType":"trigger"`, `"ordType":"conditional"`, `"tpOrdPx":""`, `"tpOrdPx":"-1"`, `"tpTriggerPx":""`, `"tpTriggerPx":"33000"`, `"triggerPx":"30000"`, `"triggerPx":""`}, schema.OrderTypeTakeProfit},
		{"conditional take-profit limit", []string{`"ordType":"trigger"`, `"ordType":"conditional"`, `"tpOrdPx":""`, `"tpOrdPx":"33100"`, `"tpTriggerPx":""`, `"tpTriggerPx":"33000"`, `"triggerPx":"30000"`, `"triggerPx":""`}, schema.OrderTypeTakeProfitLimit},
		{"oco", []string{`"ordType":"trigger"`, `"ordType":"oco"`, `"tpOrdPx":""`, `"tpOrdPx":"-1"`, `"tpTriggerPx":""`, `"tpTriggerPx":"33000"`, `"slOrdPx":""`, `"slOrdPx":"-1"`, `"slTriggerPx":""`, `"slTriggerPx":"29000"`, `"triggerPx":"30000"`, `"triggerPx":""`}, schema.OrderTypeUnknown},
	} {
		f := newConnFeed(t, schema.VenueOKX)
		msg := strings.NewReplacer(c.repl...).Replace(okxAlgo("orders-algo", "live"))
		evs, err := f.feed(1, msg)
		require.NoError(t, err, c.name)
		require.Len(t, evs, 1, c.name)
		assert.Equal(t, c.want, evs[0].Exec.Type, c.name)
	}
}

// TestS39normBinanceGTEGTC: Binance USDⓈ-M "Event: Algo Order Update"
// sends time in force GTE_GTC (its example's "f"): a conditional order
// that rests until canceled — or until the position it closes is gone,
// when the system cancels it ("a user places a GTE_GTC Time-In-Force
// conditional order but then closes all positions on that symbol"). It
// was TIFUnknown; it is GTC, as GTD is. Failed before: TIFUnknown.
func TestS39normBinanceGTEGTC(t *testing.T) {
	p, sink, _ := newRecParser(t, nil)
	msg := `{"e":"ALGO_UPDATE","T":1,"E":2,"o":{"caid":"sl-1","aid":1000000202490585,"at":"CONDITIONAL","o":"STOP_MARKET","s":"BTCUSDT","S":"SELL","ps":"SHORT","f":"GTE_GTC","q":"0.2","X":"NEW","ai":"","ap":"0","aq":"0","tp":"190","p":"0","R":true,"tt":3}}`
	require.NoError(t, p.HandleBytes(context.Background(), []byte(msg), 1))
	require.Len(t, sink.got, 1)
	assert.Equal(t, schema.TIFGTC, sink.got[0].Exec.TimeInForce)
	assert.Equal(t, schema.OrderTypeStopLoss, sink.got[0].Exec.Type)
}
