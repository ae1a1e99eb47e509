package normalize_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// The answers as OKX v5 documents them ("Get order details", "Get
// transaction details (last 3 days)", "Get order List"; "Error Codes").
const (
	okxOrderAnswer = `{"code":"0","msg":"","data":[{"accFillSz":"0.00192834","algoClOrdId":"","algoId":"","attachAlgoClOrdId":"",` +
		`"attachAlgoOrds":[],"avgPx":"51858","cTime":"1708587373361","cancelSource":"","cancelSourceReason":"","category":"normal",` +
		`"ccy":"","clOrdId":"","fee":"-0.00000192834","feeCcy":"BTC","fillPx":"51858","fillSz":"0.00192834","fillTime":"1708587373361",` +
		`"instId":"BTC-USDT","instType":"SPOT","isTpLimit":"false","lever":"","linkedAlgoOrd":{"algoId":""},"ordId":"680800019749904384",` +
		`"ordType":"market","pnl":"0","posSide":"net","px":"","pxType":"","pxUsd":"","pxVol":"","quickMgnType":"","rebate":"0",` +
		`"rebateCcy":"USDT","reduceOnly":"false","side":"buy","slOrdPx":"","slTriggerPx":"","slTriggerPxType":"","source":"","state":"filled",` +
		`"stpId":"","stpMode":"","sz":"100","tag":"","tdMode":"cash","tgtCcy":"quote_ccy","tpOrdPx":"","tpTriggerPx":"",` +
		`"tpTriggerPxType":"","tradeId":"744876980","uTime":"1708587373362"}]}`
	okxPendingAnswer = `{"code":"0","msg":"","data":[{"accFillSz":"0.3","avgPx":"30000","cTime":"1708587373361","cancelSourceReason":"",` +
		`"clOrdId":"b15","instId":"BTC-USDT","instType":"SPOT","ordId":"312269865356374016","ordType":"post_only","px":"30000",` +
		`"side":"sell","state":"partially_filled","sz":"1","tgtCcy":"","uTime":"1708587373999"}]}`
	okxFillsAnswer = `{"code":"0","msg":"","data":[{"side":"buy","fillSz":"0.00192834","fillPx":"51858","fillPxVol":"","fillFwdPx":"",` +
		`"fee":"-0.00000192834","fillPnl":"0","ordId":"680800019749904384","feeRate":"-0.001","instType":"SPOT","fillPxUsd":"",` +
		`"instId":"BTC-USDT","clOrdId":"","posSide":"net","billId":"680800019754098688","subType":"1","fillMarkVol":"","tag":"",` +
		`"fillTime":"1708587373361","execType":"T","fillIdxPx":"","tradeId":"744876980","fillMarkPx":"","feeCcy":"BTC","ts":"1708587373362"},` +
		`{"side":"buy","fillSz":"0.001","fillPx":"51850","fee":"0.0001","ordId":"680800019749904384","instId":"BTC-USDT",` +
		`"billId":"680800019754098600","fillTime":"1708587373300","execType":"M","tradeId":"744876979","feeCcy":"USDT","ts":"1708587373301"}]}`
	okxRateLimited = `{"msg":"Too Many Requests","code":"50011"}`
	okxNoOrder     = `{"code":"51603","msg":"Order does not exist","data":[]}`
)

func TestParseOKXOrders(t *testing.T) {
	syms := normalize.NewSymbols(normalize.OKXSymbolRules())
	orders, err := normalize.ParseOKXOrders([]byte(okxOrderAnswer), syms, nil)
	require.NoError(t, err)
	require.Len(t, orders, 1)
	o := orders[0]
	assert.Equal(t, "BTC-USDT", o.Symbol)
	assert.Equal(t, "680800019749904384", o.VenueOrderID.String())
	assert.True(t, o.ClientOrderID.IsZero())
	assert.Equal(t, schema.StatusFilled, o.Status)
	assert.Equal(t, schema.SideBuy, o.Side)
	assert.Equal(t, schema.OrderTypeMarket, o.Type)
	assert.True(t, o.Qty.IsZero(), "sized in the quote currency: no base quantity")
	assert.Equal(t, "0.00192834", o.CumFillQty.String())
	assert.Equal(t, "51858", o.AvgPrice.String())
	assert.Zero(t, o.CumQuoteQty.Cmp(schema.MustParseDecimal("99.99985572")), "%s", o.CumQuoteQty)
	assert.Equal(t, time.UnixMilli(1708587373362).UnixNano(), o.TransactTime)
	assert.Equal(t, time.UnixMilli(1708587373361).UnixNano(), o.OrderCreated)

	open, err := normalize.ParseOKXOrders([]byte(okxPendingAnswer), syms, orders[:0])
	require.NoError(t, err)
	require.Len(t, open, 1)
	assert.Equal(t, schema.StatusPartiallyFilled, open[0].Status)
	assert.Equal(t, schema.OrderTypeLimitMaker, open[0].Type)
	assert.Equal(t, "b15", open[0].ClientOrderID.String())
	assert.Equal(t, "0.7", open[0].RemainingQty.String())
	assert.Equal(t, schema.SideSell, open[0].Side)

	empty, err := normalize.ParseOKXOrders([]byte(`{"code":"0","msg":"","data":[]}`), syms, nil)
	require.NoError(t, err)
	assert.Empty(t, empty)
}

func TestParseOKXFills(t *testing.T) {
	syms := normalize.NewSymbols(normalize.OKXSymbolRules())
	fills, err := normalize.ParseOKXFills([]byte(okxFillsAnswer), syms, nil)
	require.NoError(t, err)
	require.Len(t, fills, 2)
	f := fills[0]
	assert.Equal(t, "BTC-USDT", f.Symbol)
	assert.Equal(t, "744876980", f.TradeID.String())
	assert.Equal(t, "680800019749904384", f.OrderID.String())
	assert.Equal(t, "680800019754098688", f.PageKey.String(), "billId: the next page's after")
	assert.Equal(t, "51858", f.Price.String())
	assert.Equal(t, "0.00192834", f.Qty.String())
	assert.Zero(t, f.QuoteQty.Cmp(schema.MustParseDecimal("99.99985572")))
	assert.Equal(t, "0.00000192834", f.Fee.String(), "OKX's negative fee is a charge: paid")
	assert.Equal(t, "BTC", f.FeeAsset.String())
	assert.False(t, f.IsMaker)
	assert.Equal(t, time.UnixMilli(1708587373361).UnixNano(), f.Time, "fillTime")
	assert.True(t, fills[1].IsMaker)
	assert.Equal(t, "-0.0001", fills[1].Fee.String(), "a rebate is negative")
}

func TestParseOKXQueryErrors(t *testing.T) {
	syms := normalize.NewSymbols(normalize.OKXSymbolRules())
	for _, c := range []struct {
		name, data string
		code       int64
		field      string
	}{
		{name: "rate limit", data: okxRateLimited, code: 50011},
		{name: "no such order", data: okxNoOrder, code: 51603},
		{name: "no code", data: `{"msg":"","data":[]}`, field: "code"},
		{name: "no order id", data: `{"code":"0","data":[{"instId":"BTC-USDT","state":"live"}]}`, field: "ordId"},
		{name: "unknown state", data: `{"code":"0","data":[{"instId":"BTC-USDT","ordId":"1","state":"zombie"}]}`, field: "state"},
		{name: "no instrument", data: `{"code":"0","data":[{"ordId":"1","state":"live"}]}`, field: "instId"},
		{name: "negative fill", data: `{"code":"0","data":[{"instId":"BTC-USDT","ordId":"1","state":"live","accFillSz":"-1"}]}`, field: "executed qty"},
		{name: "bad side", data: `{"code":"0","data":[{"instId":"BTC-USDT","ordId":"1","state":"live","side":"up"}]}`, field: "side"},
		{name: "malformed", data: `{"code":"0","data":[{"instId":`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := normalize.ParseOKXOrders([]byte(c.data), syms, nil)
			require.Error(t, err)
			var qerr *normalize.QueryError
			var perr *normalize.ParseError
			switch {
			case c.code != 0:
				require.ErrorAs(t, err, &qerr)
				assert.Equal(t, c.code, qerr.Code)
				assert.Equal(t, schema.VenueOKX, qerr.Venue)
			case c.field != "":
				require.ErrorAs(t, err, &perr)
				assert.Equal(t, c.field, perr.Field)
			default:
				require.ErrorIs(t, err, normalize.ErrMalformed)
			}
		})
	}
	for _, data := range []string{
		`{"code":"0","data":[{"instId":"BTC-USDT","ordId":"1","billId":"2","fillPx":"1","fillSz":"1"}]}`,
		`{"code":"0","data":[{"instId":"BTC-USDT","tradeId":"1","billId":"2","fillPx":"1","fillSz":"1"}]}`,
		`{"code":"0","data":[{"instId":"BTC-USDT","tradeId":"1","ordId":"1","fillPx":"0","fillSz":"1"}]}`,
		`{"code":"0","data":[{"instId":"BTC-USDT","tradeId":"1","ordId":"1","fillPx":"1","fillSz":"-1"}]}`,
		`{"code":"0","data":[{"instId":"","tradeId":"1","ordId":"1","fillPx":"1","fillSz":"1"}]}`,
	} {
		_, err := normalize.ParseOKXFills([]byte(data), syms, nil)
		var perr *normalize.ParseError
		require.ErrorAs(t, err, &perr, data)
	}
}

// TestSignOKXREST: the signature is the Base64 HMAC-SHA256 of timestamp +
// method + request path with its query + body, the timestamp ISO 8601 in
// milliseconds, UTC.
func TestSignOKXREST(t *testing.T) {
	secret := []byte("okx-secret")
	now := time.Date(2020, 12, 8, 9, 8, 57, 715_000_000, time.FixedZone("x", 3600))
	h, err := normalize.SignOKXREST("key", "pass", secret, now, "GET", "/api/v5/trade/order?instId=BTC-USDT&ordId=1", "")
	require.NoError(t, err)
	assert.Equal(t, "2020-12-08T08:08:57.715Z", h["OK-ACCESS-TIMESTAMP"])
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("2020-12-08T08:08:57.715ZGET/api/v5/trade/order?instId=BTC-USDT&ordId=1"))
	assert.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), h["OK-ACCESS-SIGN"])
	assert.Equal(t, "key", h["OK-ACCESS-KEY"])
	assert.Equal(t, "pass", h["OK-ACCESS-PASSPHRASE"])
	_, err = normalize.SignOKXREST("key", "", secret, now, "GET", "/", "")
	require.ErrorIs(t, err, normalize.ErrBadValue)
}

// FuzzOKXQueryAnswers: whatever the answer, the decoders return orders and
// fills that hold together, or an error; never a panic.
func FuzzOKXQueryAnswers(f *testing.F) {
	for _, s := range []string{okxOrderAnswer, okxPendingAnswer, okxFillsAnswer, okxRateLimited, okxNoOrder,
		`{"code":"0","data":[{}]}`, `{"code":"0","data":null}`, `{"code":0}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	syms := normalize.NewSymbols(normalize.OKXSymbolRules())
	f.Fuzz(func(t *testing.T, data []byte) {
		orders, err := normalize.ParseOKXOrders(data, syms, nil)
		checkQueryAnswer(t, err)
		if err == nil {
			checkOrders(t, orders)
		}
		fills, err := normalize.ParseOKXFills(data, syms, nil)
		checkQueryAnswer(t, err)
		if err == nil {
			checkFills(t, fills)
		}
	})
}

// checkQueryAnswer: an error is the venue's refusal or a ParseError.
func checkQueryAnswer(t *testing.T, err error) {
	var qerr *normalize.QueryError
	var perr *normalize.ParseError
	if err != nil && !errors.As(err, &qerr) && !errors.As(err, &perr) {
		t.Fatalf("untyped error %v", err)
	}
	if errors.As(err, &qerr) && qerr.Code == 0 {
		t.Fatalf("a refusal without a code: %v", err)
	}
}

func checkOrders(t *testing.T, orders []normalize.QueryOrder) {
	for _, o := range orders {
		if o.Symbol == "" || o.VenueOrderID.IsZero() || o.Status == schema.StatusUnknown || o.CumFillQty.Sign() < 0 || o.RemainingQty.Sign() < 0 {
			t.Fatalf("bad order %+v", o)
		}
	}
}

func checkFills(t *testing.T, fills []normalize.QueryFill) {
	for _, f := range fills {
		if f.Symbol == "" || f.TradeID.IsZero() || f.OrderID.IsZero() || f.Qty.Sign() <= 0 || f.Price.Sign() <= 0 {
			t.Fatalf("bad fill %+v", f)
		}
	}
}

// A spot market buy whose answer has no tgtCcy is sized in the quote
// currency, OKX's default ("Default is quote_ccy for buy, base_ccy for
// sell"), as the orders channel reads it: an order placed by another
// client of the account may not say (ccxt/ccxt#9592). A sell is sized in
// the base currency.
func TestParseOKXOrdersMarketBuyDefaultsToQuote(t *testing.T) {
	syms := normalize.NewSymbols(normalize.OKXSymbolRules())
	buy := strings.Replace(okxOrderAnswer, `"tgtCcy":"quote_ccy"`, `"tgtCcy":""`, 1)
	orders, err := normalize.ParseOKXOrders([]byte(buy), syms, nil)
	require.NoError(t, err)
	require.Len(t, orders, 1)
	assert.True(t, orders[0].Qty.IsZero(), "100 USDT is no base quantity: %s", orders[0].Qty)

	sell := strings.Replace(buy, `"side":"buy"`, `"side":"sell"`, 1)
	orders, err = normalize.ParseOKXOrders([]byte(sell), syms, nil)
	require.NoError(t, err)
	require.Len(t, orders, 1)
	assert.Equal(t, "100", orders[0].Qty.String())
}
