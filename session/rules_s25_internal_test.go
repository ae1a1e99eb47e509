package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// TestS25MaxNumAlgoOrders: MAX_NUM_ALGO_ORDERS counts the stop and
// take-profit orders open on a symbol (Binance spot "Filters": "'Algo'
// orders are STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, and
// TAKE_PROFIT_LIMIT orders"); MAX_NUM_ORDERS counts both kinds. Orders of
// another symbol and ended ones are not counted; a cancel is never
// refused.
func TestS25MaxNumAlgoOrders(t *testing.T) {
	s := &Session{spec: venues[schema.VenueBinance], rules: map[string]normalize.InstrumentRules{
		"BTC-USDT": {MaxNumOrders: 3, MaxNumAlgoOrders: 1}}}
	r := newReconciler(s, &fakeBackend{})
	s.orders = &orders{rec: r}
	r.counted = true // the statuses followed are the venue's (see TestS27MaxNumOrdersUnknownCount)
	r.orders[orderKey{symbol: "BTC-USDT", id: schema.MustID("1")}] = &tracked{status: schema.StatusNew, algo: true}
	r.orders[orderKey{symbol: "BTC-USDT", id: schema.MustID("2")}] = &tracked{status: schema.StatusFilled}
	r.orders[orderKey{symbol: "ETH-USDT", id: schema.MustID("3")}] = &tracked{status: schema.StatusNew}
	req := &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "BTC-USDT", Type: schema.OrderTypeStopLossLimit}
	var re *normalize.RuleError
	require.ErrorAs(t, s.checkWorking(req), &re, "a second algo order")
	assert.Equal(t, []string{"OpenAlgoOrders", "max", "2", "1"}, []string{re.Field, re.Rule, re.Value.String(), re.Limit.String()})
	req.Type = schema.OrderTypeLimit
	require.NoError(t, s.checkWorking(req), "a limit order: 2 of 3")
	r.orders[orderKey{symbol: "BTC-USDT", id: schema.MustID("4")}] = &tracked{status: schema.StatusPartiallyFilled}
	require.NoError(t, s.checkWorking(req), "a limit order: 3 of 3")
	r.orders[orderKey{symbol: "BTC-USDT", id: schema.MustID("5")}] = &tracked{status: schema.StatusPendingNew}
	require.ErrorAs(t, s.checkWorking(req), &re, "a fourth order")
	assert.Equal(t, []string{"OpenOrders", "max", "4", "3"}, []string{re.Field, re.Rule, re.Value.String(), re.Limit.String()})
	req.Action = schema.ActionCancel
	require.NoError(t, s.checkWorking(req), "a cancel")

	tr := &tracked{}
	tr.setType(schema.OrderTypeTakeProfit)
	require.True(t, tr.algo)
	tr.setType(schema.OrderTypeUnknown)
	require.True(t, tr.algo, "a report without a type keeps it")
	tr.setType(schema.OrderTypeLimitMaker)
	require.False(t, tr.algo)
}

// TestS25ExchangeMaxNumOrders: EXCHANGE_MAX_NUM_ORDERS counts the orders
// open on every symbol (Binance spot "Exchange Filters"); Rule "exchange
// max".
func TestS25ExchangeMaxNumOrders(t *testing.T) {
	s := &Session{spec: venues[schema.VenueBinance], rules: map[string]normalize.InstrumentRules{
		"BTC-USDT": {MaxNumOrders: 200, ExchangeMaxNumOrders: 2, ExchangeMaxNumAlgoOrders: 1}}}
	r := newReconciler(s, &fakeBackend{})
	s.orders = &orders{rec: r}
	r.counted = true // the statuses followed are the venue's (see TestS27MaxNumOrdersUnknownCount)
	r.orders[orderKey{symbol: "ETH-USDT", id: schema.MustID("1")}] = &tracked{status: schema.StatusNew, algo: true}
	req := &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "BTC-USDT", Type: schema.OrderTypeTakeProfit}
	var re *normalize.RuleError
	require.ErrorAs(t, s.checkWorking(req), &re, "an algo order on another symbol counts")
	assert.Equal(t, []string{"OpenAlgoOrders", "exchange max", "2", "1"}, []string{re.Field, re.Rule, re.Value.String(), re.Limit.String()})
	req.Type = schema.OrderTypeLimit
	require.NoError(t, s.checkWorking(req), "2 of 2")
	r.orders[orderKey{symbol: "ETH-USDT", id: schema.MustID("2")}] = &tracked{status: schema.StatusNew}
	require.ErrorAs(t, s.checkWorking(req), &re)
	assert.Equal(t, []string{"OpenOrders", "exchange max", "3", "2"}, []string{re.Field, re.Rule, re.Value.String(), re.Limit.String()})
}
