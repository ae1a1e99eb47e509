package normalize_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// The answers as the spot WS-API documents them ("Query order",
// "Account trade history", "Current open orders").
const (
	orderStatusAnswer = `{"id":"aa62318a","status":200,"result":{"symbol":"BTCUSDT","orderId":12569099453,"orderListId":-1,` +
		`"clientOrderId":"4d96324ff9d44481926157","price":"23416.10000000","origQty":"0.00847000","executedQty":"0.00847000",` +
		`"cummulativeQuoteQty":"198.33521500","status":"FILLED","timeInForce":"GTC","type":"LIMIT","side":"SELL",` +
		`"stopPrice":"0.00000000","icebergQty":"0.00000000","time":1660801715639,"updateTime":1660801717945,"isWorking":true,` +
		`"workingTime":1660801715639,"origQuoteOrderQty":"0.00000000","selfTradePreventionMode":"NONE"},` +
		`"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":4}]}`
	myTradesAnswer = `{"id":"f4ce6a53","status":200,"result":[` +
		`{"symbol":"BTCUSDT","id":1650422481,"orderId":12569099453,"orderListId":-1,"price":"23416.10000000","qty":"0.00635000",` +
		`"quoteQty":"148.69223500","commission":"0.00000000","commissionAsset":"BNB","time":1660801715793,"isBuyer":false,"isMaker":true,"isBestMatch":true},` +
		`{"symbol":"BTCUSDT","id":1650422482,"orderId":12569099453,"orderListId":-1,"price":"23416.10000000","qty":"0.00212000",` +
		`"quoteQty":"49.64213200","commission":"0.00000000","commissionAsset":"BNB","time":1660801715793,"isBuyer":false,"isMaker":true,"isBestMatch":true}],` +
		`"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":20}]}`
	openOrdersAnswer = `{"id":"55f07876","status":200,"result":[{"symbol":"BTCUSDT","orderId":12569099453,"orderListId":-1,` +
		`"clientOrderId":"4d96324ff9d44481926157","price":"23416.10000000","origQty":"0.00847000","executedQty":"0.00720000",` +
		`"cummulativeQuoteQty":"172.43931000","status":"PARTIALLY_FILLED","timeInForce":"GTC","type":"LIMIT","side":"SELL",` +
		`"stopPrice":"0.00000000","icebergQty":"0.00000000","time":1660801715639,"updateTime":1660801717945,"isWorking":true}]}`
	queryRefused = `{"id":"1","status":429,"error":{"code":-1003,"msg":"Too much request weight used; current limit is 6000 request weight per 1 MINUTE."}}`
)

func TestParseBinanceOrders(t *testing.T) {
	syms := normalize.NewBinanceSymbols()
	orders, err := normalize.ParseBinanceOrders([]byte(orderStatusAnswer), syms, nil)
	require.NoError(t, err)
	require.Len(t, orders, 1)
	o := orders[0]
	assert.Equal(t, "BTC-USDT", o.Symbol)
	assert.Equal(t, "12569099453", o.VenueOrderID.String())
	assert.Equal(t, "4d96324ff9d44481926157", o.ClientOrderID.String())
	assert.Equal(t, schema.StatusFilled, o.Status)
	assert.Equal(t, schema.SideSell, o.Side)
	assert.Equal(t, schema.OrderTypeLimit, o.Type)
	assert.Equal(t, "0.00847000", o.CumFillQty.String())
	assert.Equal(t, "198.33521500", o.CumQuoteQty.String())
	assert.True(t, o.RemainingQty.IsZero())
	assert.Equal(t, time.UnixMilli(1660801717945).UnixNano(), o.TransactTime)

	open, err := normalize.ParseBinanceOrders([]byte(openOrdersAnswer), syms, orders[:0])
	require.NoError(t, err)
	require.Len(t, open, 1)
	assert.Equal(t, schema.StatusPartiallyFilled, open[0].Status)
	assert.Equal(t, "0.00127000", open[0].RemainingQty.String())

	empty, err := normalize.ParseBinanceOrders([]byte(`{"id":3,"status":200,"result":[]}`), syms, nil)
	require.NoError(t, err)
	assert.Empty(t, empty)
}

func TestParseBinanceTrades(t *testing.T) {
	trades, err := normalize.ParseBinanceTrades([]byte(myTradesAnswer), normalize.NewBinanceSymbols(), nil)
	require.NoError(t, err)
	require.Len(t, trades, 2)
	tr := trades[1]
	assert.Equal(t, "BTC-USDT", tr.Symbol)
	assert.Equal(t, "1650422482", tr.TradeID.String())
	assert.Equal(t, "12569099453", tr.OrderID.String())
	assert.Equal(t, "0.00212000", tr.Qty.String())
	assert.Equal(t, "49.64213200", tr.QuoteQty.String())
	assert.Equal(t, "BNB", tr.CommissionAsset.String())
	assert.True(t, tr.IsMaker)
	assert.False(t, tr.IsBuyer)
}

func TestParseBinanceQueryErrors(t *testing.T) {
	syms := normalize.NewBinanceSymbols()
	_, err := normalize.ParseBinanceTrades([]byte(queryRefused), syms, nil)
	var qerr *normalize.BinanceQueryError
	require.ErrorAs(t, err, &qerr)
	assert.Equal(t, int64(429), qerr.Status)
	assert.Equal(t, int64(-1003), qerr.Code)

	for name, in := range map[string]string{
		"not json":       `{"id":1,`,
		"no result":      `{"id":1,"status":200}`,
		"negative qty":   strings.Replace(myTradesAnswer, `"qty":"0.00635000"`, `"qty":"-1"`, 1),
		"no trade id":    strings.Replace(myTradesAnswer, `"id":1650422481,`, ``, 1),
		"unknown status": strings.Replace(orderStatusAnswer, `"FILLED"`, `"DONE"`, 1),
		"bad side":       strings.Replace(orderStatusAnswer, `"SELL"`, `"UP"`, 1),
		"result scalar":  `{"id":1,"status":200,"result":7}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err1 := normalize.ParseBinanceTrades([]byte(in), syms, nil)
			_, err2 := normalize.ParseBinanceOrders([]byte(in), syms, nil)
			var perr *normalize.ParseError
			assert.True(t, errors.As(err1, &perr) || errors.As(err2, &perr), "%v / %v", err1, err2)
		})
	}
}

// TestBinanceQueryRequests: the requests carry what the venue documents,
// signed like the other requests.
func TestBinanceQueryRequests(t *testing.T) {
	creds := normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s")))
	enc := normalize.NewBinanceOrders(creds, &normalize.OrderOptions{Now: func() time.Time { return time.UnixMilli(1700000000000) }})
	var req struct {
		ID     uint64         `json:"id"`
		Method string         `json:"method"`
		Params map[string]any `json:"params"`
	}
	b, err := enc.AppendOrderStatus(nil, 7, "BTC-USDT", schema.MustID("42"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &req))
	assert.Equal(t, "order.status", req.Method)
	assert.Equal(t, uint64(7), req.ID)
	assert.Equal(t, "BTCUSDT", req.Params["symbol"])
	assert.EqualValues(t, 42, req.Params["orderId"])
	assert.NotEmpty(t, req.Params["signature"])

	req.Params = nil
	b, err = enc.AppendMyTrades(nil, 8, "BTC-USDT", schema.MustID("42"), 100)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &req))
	assert.Equal(t, "myTrades", req.Method)
	assert.EqualValues(t, 100, req.Params["fromId"])
	assert.EqualValues(t, normalize.BinanceMyTradesLimit, req.Params["limit"])

	req.Params = nil
	b, err = enc.AppendOpenOrders(nil, 9)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &req))
	assert.Equal(t, "openOrders.status", req.Method)
	assert.NotContains(t, req.Params, "symbol")

	req.Params = nil
	b, err = enc.AppendOrderStatusByClientID(nil, 10, "BTC-USDT", schema.MustID("my-1"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &req))
	assert.Equal(t, "my-1", req.Params["origClientOrderId"])
	assert.NotContains(t, req.Params, "orderId")
	_, err = enc.AppendOrderStatusByClientID(nil, 10, "BTC-USDT", schema.ID{})
	require.ErrorIs(t, err, normalize.ErrBadValue)

	_, err = enc.AppendOrderStatus(nil, 7, "BTC-USDT", schema.MustID("abc"))
	require.ErrorIs(t, err, normalize.ErrBadValue)
}

// FuzzBinanceQueryAnswers: whatever the answer, the parsers return orders
// and trades that hold together, or an error; never a panic.
func FuzzBinanceQueryAnswers(f *testing.F) {
	for _, s := range []string{orderStatusAnswer, myTradesAnswer, openOrdersAnswer, queryRefused,
		`{"id":1,"status":200,"result":{}}`, `{"id":1,"status":200,"result":[{}]}`, `{"result":null}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	syms := normalize.NewBinanceSymbols()
	f.Fuzz(func(t *testing.T, data []byte) {
		orders, err := normalize.ParseBinanceOrders(data, syms, nil)
		if err == nil {
			for _, o := range orders {
				if o.Symbol == "" || o.VenueOrderID.IsZero() || o.Status == schema.StatusUnknown || o.CumFillQty.Sign() < 0 {
					t.Fatalf("bad order %+v", o)
				}
			}
		}
		trades, err := normalize.ParseBinanceTrades(data, syms, nil)
		if err == nil {
			for _, tr := range trades {
				if tr.Symbol == "" || tr.TradeID.IsZero() || tr.Qty.Sign() <= 0 || tr.Price.Sign() <= 0 {
					t.Fatalf("bad trade %+v", tr)
				}
			}
		}
	})
}
