package venuesim_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Binance spot documents the executionReport's reject reasons ("r",
// user-data-stream.md, "Order Reject Reason"): INSUFFICIENT_BALANCES for
// "Account has insufficient balance for requested action." and
// WOULD_MATCH_IMMEDIATELY for "Order would immediately match and take." A
// bot that switches on them must see those spellings.
func TestAdv2RejectReasonsAsDocumented(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"60000","quantity":"1000","newClientOrderId":"big","timestamp":1}}`)
	assert.Equal(t, map[string]any{"code": float64(-2010), "msg": "Account has insufficient balance for requested action."}, a.response(2)["error"])
	r := a.report()
	assert.Equal(t, []any{"REJECTED", "REJECTED", "INSUFFICIENT_BALANCES", "big"}, []any{r["x"], r["X"], r["r"], r["c"]})

	write(t, a.c, `{"id":3,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT_MAKER","price":"90000","quantity":"0.001","newClientOrderId":"maker","timestamp":1}}`)
	assert.Equal(t, map[string]any{"code": float64(-2010), "msg": "Order would immediately match and take."}, a.response(3)["error"])
	r = a.report()
	assert.Equal(t, []any{"REJECTED", "REJECTED", "WOULD_MATCH_IMMEDIATELY", "maker"}, []any{r["x"], r["X"], r["r"], r["c"]})
}

// order.cancel's answer (WebSocket API "Cancel order", as DELETE
// /api/v3/order): origClientOrderId is the canceled order's client id,
// clientOrderId the cancel's own (newClientOrderId, or one the venue
// makes up); in the CANCELED executionReport, "c" is the cancel's id and
// "C" the canceled order's (user-data-stream.md). A bot matching either
// to its order by the original id finds it.
func TestAdv2CancelAnswerNamesBothIDs(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	for i, cancel := range []string{
		`"origClientOrderId":"rest-0","newClientOrderId":"cxl-0"`,
		`"orderId":%d`,
	} {
		id := float64(10 + 2*i)
		cid := "rest-" + strconv.Itoa(i)
		write(t, a.c, `{"id":`+strconv.Itoa(int(id))+`,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1","newClientOrderId":"`+cid+`","timestamp":1}}`)
		placed := a.response(id)["result"].(map[string]any)
		orderID := placed["orderId"].(float64)
		r := a.report()
		assert.Equal(t, []any{"NEW", cid, ""}, []any{r["X"], r["c"], r["C"]})
		if i == 1 {
			cancel = `"orderId":` + strconv.FormatFloat(orderID, 'f', -1, 64)
		}
		write(t, a.c, `{"id":`+strconv.Itoa(int(id+1))+`,"method":"order.cancel","params":{"symbol":"ETHUSDT",`+cancel+`,"timestamp":2}}`)
		res := a.response(id + 1)["result"].(map[string]any)
		assert.Equal(t, "CANCELED", res["status"])
		assert.Equal(t, orderID, res["orderId"])
		assert.Equal(t, cid, res["origClientOrderId"], "the canceled order's client id")
		if i == 0 {
			assert.Equal(t, "cxl-0", res["clientOrderId"], "the cancel's newClientOrderId")
		} else {
			assert.NotEmpty(t, res["clientOrderId"])
			assert.NotEqual(t, cid, res["clientOrderId"], "a new id for the cancel, not the order's")
		}
		r = a.report()
		assert.Equal(t, []any{"CANCELED", "CANCELED"}, []any{r["x"], r["X"]})
		assert.Equal(t, res["clientOrderId"], r["c"], "the report's c is the cancel's client id")
		assert.Equal(t, cid, r["C"], "the report's C is the canceled order's (user-data-stream.md: \"the ID of the order being canceled\")")
	}
}

// Parameters the venue refuses with the codes and messages of Binance's
// errors.md: an unknown side (-1117), an unknown timeInForce (-1115), a
// timeInForce on an order type that takes none (-1106), more decimals
// than the venue keeps (-1111), and a client order id already used by an
// open order (-2010 "Duplicate order sent.", no report: the id is the
// working order's).
func TestAdv2ParameterErrorsAsDocumented(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1","newClientOrderId":"open-1","timestamp":1}}`)
	require.Equal(t, float64(200), a.response(2)["status"])
	require.Equal(t, "NEW", a.report()["X"])
	cases := []struct {
		params string
		code   float64
		msg    string
	}{
		{`{"symbol":"BTCUSDT","side":"UP","type":"MARKET","quantity":"1","timestamp":1}`, -1117, "Invalid side."},
		{`{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTD","price":"5","quantity":"1","timestamp":1}`, -1115, "Invalid timeInForce."},
		{`{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","timeInForce":"GTC","quantity":"0.001","timestamp":1}`, -1106, "Parameter 'timeInForce' sent when not required."},
		{`{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT_MAKER","timeInForce":"GTC","price":"5","quantity":"1","timestamp":1}`, -1106, "Parameter 'timeInForce' sent when not required."},
		{`{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.000000001","quantity":"1","timestamp":1}`, -1111, "Parameter 'price' has too much precision."},
		{`{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100","quantity":"1.000000001","timestamp":1}`, -1111, "Parameter 'quantity' has too much precision."},
		{`{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"99.00","quantity":"1","newClientOrderId":"open-1","timestamp":1}`, -2010, "Duplicate order sent."},
	}
	for i, tc := range cases {
		id := 10 + i
		write(t, a.c, `{"id":`+strconv.Itoa(id)+`,"method":"order.place","params":`+tc.params+`}`)
		resp := a.response(float64(id))
		assert.Equal(t, float64(400), resp["status"], tc.params)
		assert.Equal(t, map[string]any{"code": tc.code, "msg": tc.msg}, resp["error"], tc.params)
	}
	// Nothing was reported for any of them: the next report is the cancel
	// of the working order, which is still there.
	write(t, a.c, `{"id":50,"method":"order.cancel","params":{"symbol":"ETHUSDT","origClientOrderId":"open-1","timestamp":2}}`)
	assert.Equal(t, float64(200), a.response(50)["status"])
	r := a.report()
	assert.Equal(t, []any{"CANCELED", "open-1"}, []any{r["X"], r["C"]})
}

// timeInForce IOC and FOK (Binance spot "Time in force": IOC fills what it
// can at once and expires the rest, FOK fills whole or expires): a limit
// order that cannot fill at once never rests — the answer says EXPIRED,
// the reports are NEW then EXPIRED, no funds stay locked and the open
// orders do not list it. A GTC order at the same price rests.
func TestAdv2IOCAndFOKNeverRest(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	freeBefore, lockedBefore := v.Balance("USDT")
	for i, tif := range []string{"IOC", "FOK"} {
		id := 10 + i
		cid := "far-" + tif
		write(t, a.c, `{"id":`+strconv.Itoa(id)+`,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"`+tif+`","price":"100.00","quantity":"1","newClientOrderId":"`+cid+`","timestamp":1}}`)
		resp := a.response(float64(id))
		require.Equal(t, float64(200), resp["status"], tif)
		res := resp["result"].(map[string]any)
		assert.Equal(t, []any{"EXPIRED", tif, "0.00000000"}, []any{res["status"], res["timeInForce"], res["executedQty"]}, tif)
		r := a.report()
		assert.Equal(t, []any{"NEW", "NEW", cid, tif}, []any{r["x"], r["X"], r["c"], r["f"]})
		r = a.report()
		assert.Equal(t, []any{"EXPIRED", "EXPIRED", cid, "0.00000000"}, []any{r["x"], r["X"], r["c"], r["z"]})
	}
	free, locked := v.Balance("USDT")
	assert.Equal(t, []string{freeBefore, lockedBefore}, []string{free, locked}, "nothing locked")
	write(t, a.c, `{"id":20,"method":"openOrders.status","params":{"symbol":"ETHUSDT","timestamp":1}}`)
	assert.Empty(t, a.response(20)["result"], "neither rests")
	write(t, a.c, `{"id":21,"method":"order.status","params":{"symbol":"ETHUSDT","origClientOrderId":"far-IOC","timestamp":1}}`)
	assert.Equal(t, "EXPIRED", a.response(21)["result"].(map[string]any)["status"])
}

// exchangeInfo's NOTIONAL filter has Binance's whole shape (filters.md):
// minNotional, applyMinToMarket, maxNotional, applyMaxToMarket,
// avgPriceMins; the simulator does not hold market orders to it, which
// applyMinToMarket and applyMaxToMarket false say.
func TestAdv2NotionalFilterShape(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	info, err := httpGetJSON(v.RESTURL() + "/api/v3/exchangeInfo")
	require.NoError(t, err)
	syms := info["symbols"].([]any)
	require.NotEmpty(t, syms)
	for _, s := range syms {
		var notional map[string]any
		for _, f := range s.(map[string]any)["filters"].([]any) {
			if f := f.(map[string]any); f["filterType"] == "NOTIONAL" {
				notional = f
			}
		}
		require.NotNil(t, notional)
		assert.ElementsMatch(t, []string{"filterType", "minNotional", "applyMinToMarket", "maxNotional", "applyMaxToMarket", "avgPriceMins"}, keysOf(notional))
		assert.Equal(t, false, notional["applyMinToMarket"])
		assert.Equal(t, false, notional["applyMaxToMarket"])
	}
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Quote quantities are exact, as Binance computes them: a fill of
// 0.00149 at 3499.22 is 5.2138378 of the quote asset to the last digit in
// the report's last and cumulative quote quantities ("Y", "Z"), in
// myTrades' quoteQty and in the account's balance — a bot reconciling
// price × quantity with exact decimals finds no difference.
func TestAdv2QuoteQuantitiesExact(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	freeBefore, _ := v.Balance("USDT")
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"3499.22","quantity":"0.00149","newClientOrderId":"exact","timestamp":1}}`)
	res := a.response(2)["result"].(map[string]any)
	require.Equal(t, "NEW", res["status"], "rests below the ask")
	require.Equal(t, "NEW", a.report()["X"])
	id, err := strconv.ParseUint(strconv.FormatFloat(res["orderId"].(float64), 'f', -1, 64), 10, 64)
	require.NoError(t, err)
	require.NoError(t, v.FillOrder(id, ""))
	r := a.report()
	require.Equal(t, "TRADE", r["x"])
	assert.Equal(t, []any{"3499.22000000", "0.00149000", "5.21383780", "5.21383780"}, []any{r["L"], r["l"], r["Y"], r["Z"]})
	write(t, a.c, `{"id":3,"method":"myTrades","params":{"symbol":"ETHUSDT","orderId":`+strconv.FormatUint(id, 10)+`,"timestamp":1}}`)
	trades := a.response(3)["result"].([]any)
	require.Len(t, trades, 1)
	assert.Equal(t, "5.21383780", trades[0].(map[string]any)["quoteQty"])
	free, locked := v.Balance("USDT")
	assert.Equal(t, "0.00000000", locked)
	assert.Equal(t, subDec(t, freeBefore, "5.21383780"), free, "the account paid exactly price × quantity")
}

// subDec is a − b for two eight-decimal strings.
func subDec(t *testing.T, a, b string) string {
	t.Helper()
	parse := func(s string) int64 {
		w, f, _ := strings.Cut(s, ".")
		n, err := strconv.ParseInt(w+f, 10, 64)
		require.NoError(t, err)
		return n
	}
	d := parse(a) - parse(b)
	return strconv.FormatInt(d/100_000_000, 10) + "." + fmt.Sprintf("%08d", d%100_000_000)
}

// order.place answers in the format newOrderRespType asks, with Binance's
// defaults (WebSocket API "Place new order": MARKET and LIMIT orders FULL,
// other types ACK): FULL is the order as it stands after matching — a
// marketable order FILLED, with the fills it took, whose trade ids, prices
// and commissions are those of its TRADE reports — and "fills": [] for one
// that rests; RESULT has no fills; ACK only the ids.
func TestAdv2PlaceAnswerFormats(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"0.02","newClientOrderId":"mkt","timestamp":1}}`)
	res := a.response(2)["result"].(map[string]any)
	assert.Equal(t, []any{"FILLED", "0.02000000", "0.00000000"}, []any{res["status"], res["executedQty"], res["origQuoteOrderQty"]})
	fills := res["fills"].([]any)
	require.Len(t, fills, 2)
	require.Equal(t, "NEW", a.report()["X"])
	quote := "0.00000000"
	for i, f := range fills {
		f := f.(map[string]any)
		r := a.report()
		require.Equal(t, "TRADE", r["x"])
		assert.Equal(t, []any{r["L"], r["l"], r["n"], r["N"], r["t"]}, []any{f["price"], f["qty"], f["commission"], f["commissionAsset"], f["tradeId"]}, "fill %d is its TRADE report", i)
		quote = r["Z"].(string)
	}
	assert.Equal(t, quote, res["cummulativeQuoteQty"])

	write(t, a.c, `{"id":3,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1","timestamp":1}}`)
	res = a.response(3)["result"].(map[string]any)
	assert.Equal(t, "NEW", res["status"])
	assert.Equal(t, []any{}, res["fills"], "FULL: no fills yet")

	write(t, a.c, `{"id":4,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1","newOrderRespType":"RESULT","timestamp":1}}`)
	res = a.response(4)["result"].(map[string]any)
	assert.Equal(t, "NEW", res["status"])
	assert.NotContains(t, res, "fills")

	write(t, a.c, `{"id":5,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT_MAKER","price":"100.00","quantity":"1","newClientOrderId":"mk","timestamp":1}}`)
	res = a.response(5)["result"].(map[string]any)
	assert.ElementsMatch(t, []string{"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}, keysOf(res), "LIMIT_MAKER answers ACK by default")
	assert.Equal(t, "mk", res["clientOrderId"])

	write(t, a.c, `{"id":6,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1","newOrderRespType":"ALL","timestamp":1}}`)
	assert.Equal(t, float64(-1100), a.response(6)["error"].(map[string]any)["code"])
}

// A client order id is unique among open orders only: once an order is
// done its id may be used again. order.status by origClientOrderId, and
// Venue.OrderID, then name the latest order with that id — every time,
// not whichever a map happens to yield first.
func TestAdv2ReusedClientIDFindsTheLatest(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"MARKET","quantity":"0.01","newClientOrderId":"again","timestamp":1}}`)
	require.Equal(t, "FILLED", a.response(2)["result"].(map[string]any)["status"])
	write(t, a.c, `{"id":3,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1","newClientOrderId":"again","timestamp":1}}`)
	res := a.response(3)["result"].(map[string]any)
	require.Equal(t, "NEW", res["status"], "the id is free again once the first order filled")
	latest := res["orderId"].(float64)
	for i := range 30 {
		id := 10 + i
		write(t, a.c, `{"id":`+strconv.Itoa(id)+`,"method":"order.status","params":{"symbol":"ETHUSDT","origClientOrderId":"again","timestamp":1}}`)
		st := a.response(float64(id))["result"].(map[string]any)
		require.Equal(t, []any{latest, "NEW"}, []any{st["orderId"], st["status"]}, "query %d", i)
		got, ok := v.OrderID("again")
		require.True(t, ok)
		require.Equal(t, uint64(latest), got, "query %d", i)
	}
}

// Requests missing what names their subject get errors.md's -1102
// messages: order.cancel with neither orderId nor origClientOrderId, the
// REST depth without a symbol (HTTP 400).
func TestAdv2MissingSubjectIsMandatory(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.cancel","params":{"symbol":"ETHUSDT","timestamp":1}}`)
	resp := a.response(2)
	assert.Equal(t, float64(400), resp["status"])
	assert.Equal(t, map[string]any{"code": float64(-1102), "msg": "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"}, resp["error"])

	_, err := httpGetJSON(v.RESTURL() + "/api/v3/depth")
	require.Error(t, err, "HTTP 400")
	assert.JSONEq(t, `{"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."}`, err.Error())
}

// A MARKET order may name the quote amount to spend instead of a quantity
// (quoteOrderQty, as normalize's encoder sends for OrderRequest.QuoteQty):
// the venue buys what that amount takes at the touch, on the LOT_SIZE
// step, and says so (origQuoteOrderQty, "Q"). Neither or both of quantity
// and quoteOrderQty, or quoteOrderQty on a LIMIT order, get errors.md's
// answers; an amount too small for one step fails LOT_SIZE.
func TestAdv2MarketByQuoteAmount(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quoteOrderQty":"100","newClientOrderId":"q","timestamp":1}}`)
	resp := a.response(2)
	require.Equal(t, float64(200), resp["status"], resp)
	res := resp["result"].(map[string]any)
	assert.Equal(t, []any{"FILLED", "100.00000000"}, []any{res["status"], res["origQuoteOrderQty"]})
	qty, spent := dec(t, res["executedQty"].(string)), dec(t, res["cummulativeQuoteQty"].(string))
	assert.Positive(t, qty)
	assert.LessOrEqual(t, spent, 100.0, "never more than asked")
	assert.Greater(t, spent, 100.0-70.0, "within one step (0.00001 BTC ≈ 0.67 USDT) of it")
	r := a.report()
	assert.Equal(t, []any{"NEW", "100.00000000", res["origQty"]}, []any{r["X"], r["Q"], r["q"]})
	write(t, a.c, `{"id":3,"method":"order.status","params":{"symbol":"BTCUSDT","origClientOrderId":"q","timestamp":1}}`)
	assert.Equal(t, "100.00000000", a.response(3)["result"].(map[string]any)["origQuoteOrderQty"])

	for i, tc := range []struct {
		params, code, msg string
	}{
		{`"type":"MARKET"`, "-1102", "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"},
		{`"type":"MARKET","quantity":"0.001","quoteOrderQty":"100"`, "-1106", "Parameter 'quoteOrderQty' sent when not required."},
		{`"type":"LIMIT","timeInForce":"GTC","price":"100","quantity":"1","quoteOrderQty":"100"`, "-1106", "Parameter 'quoteOrderQty' sent when not required."},
		{`"type":"MARKET","quoteOrderQty":"0.0001"`, "-1013", "Filter failure: LOT_SIZE"},
	} {
		id := 10 + i
		write(t, a.c, `{"id":`+strconv.Itoa(id)+`,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY",`+tc.params+`,"timestamp":1}}`)
		e := a.response(float64(id))["error"].(map[string]any)
		assert.Equal(t, []any{tc.code, tc.msg}, []any{strconv.FormatFloat(e["code"].(float64), 'f', -1, 64), e["msg"]}, tc.params)
	}
}
