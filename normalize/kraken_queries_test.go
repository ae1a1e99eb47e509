package normalize_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// The answers as Kraken Spot REST documents them ("Query Orders Info",
// "Query Trades Info", "Get Open Orders", "Get Closed Orders").
const (
	krakenQueryOrdersAnswer = `{"error":[],"result":{"OBCMZD-JIEE7-77TH3F":{"refid":"None","userref":0,"cl_ord_id":"bot-7",` +
		`"status":"canceled","reason":"User requested","opentm":1688665496.7808,"closetm":1688665499.1922,"starttm":0,"expiretm":0,` +
		`"descr":{"pair":"XBTUSD","type":"buy","ordertype":"limit","price":"27500.0","price2":"0","leverage":"none",` +
		`"order":"buy 1.25000000 XBTUSD @ limit 27500.0","close":""},"vol":"1.25000000","vol_exec":"0.37500000","cost":"10312.5",` +
		`"fee":"26.2","price":"27500.0","stopprice":"0.00000","limitprice":"0.00000","misc":"","oflags":"fciq",` +
		`"trades":["TZX2WP-XSEOP-FP7WYR","THVRQM-33VKH-UCI7BS"]},` +
		`"OMMDB2-FSB6Z-7W3HPO":{"refid":null,"userref":null,"cl_ord_id":null,"status":"open","opentm":1688592012.2317,` +
		`"starttm":0,"expiretm":0,"descr":{"pair":"XBTUSD","type":"sell","ordertype":"stop-loss-limit","price":"26000.0",` +
		`"price2":"25900.0","leverage":"none","order":"","close":""},"vol":"0.25000000","vol_exec":"0.10000000","cost":"2590.0",` +
		`"fee":"7.5","price":"25900.0","misc":"","oflags":"fcib"}}}`
	krakenQueryTradesAnswer = `{"error":[],"result":{"THVRQM-33VKH-UCI7BS":{"ordertxid":"OBCMZD-JIEE7-77TH3F","postxid":"TKH2SE-M7IF5-CFI7LT",` +
		`"pair":"XXBTZUSD","time":1688667796.8802,"type":"buy","ordertype":"limit","price":"27500.00000","cost":"6875.00000",` +
		`"fee":"11.00000","vol":"0.25000000","margin":"0.00000","misc":"","trade_id":93748276,"maker":true},` +
		`"TZX2WP-XSEOP-FP7WYR":{"ordertxid":"OBCMZD-JIEE7-77TH3F","pair":"XXBTZUSD","time":1688667769.6396,"type":"buy",` +
		`"ordertype":"limit","price":"27500.00000","cost":"3437.50000","fee":"5.50000","vol":"0.12500000","margin":"0.00000",` +
		`"misc":"","trade_id":93748270,"maker":false}}}`
	krakenOpenAnswer = `{"error":[],"result":{"open":{"OQCLML-BW3P3-BUCMWZ":{"cl_ord_id":"bot-9","status":"open","opentm":1688666559.8974,` +
		`"descr":{"pair":"XBTUSD","type":"buy","ordertype":"market","price":"0","price2":"0"},"vol":"100.0","vol_exec":"0",` +
		`"cost":"0","fee":"0","price":"0","oflags":"fciq,viqc","trades":[]}}}}`
	krakenClosedAnswer = `{"error":[],"result":{"closed":{"O37652-RJWRT-IMO74O":{"cl_ord_id":"bot-9","status":"expired",` +
		`"opentm":1688148493.7708,"closetm":1688148610.0482,"descr":{"pair":"XBTGBP","type":"buy","ordertype":"limit",` +
		`"price":"23667.0","price2":"0"},"vol":"0.00100000","vol_exec":"0.00000000","cost":"0.00000","fee":"0.00000",` +
		`"price":"0.00000","oflags":"fciq"}},"count":1}}`
	krakenHistoryAnswer = `{"error":[],"result":{"trades":{"THVRQM-33VKH-UCI7BS":{"ordertxid":"OQCLML-BW3P3-BUCMWZ",` +
		`"postxid":"TKH2SE-M7IF5-CFI7LT","pair":"XXBTZUSD","time":1688667796.8802,"type":"buy","ordertype":"limit",` +
		`"price":"30010.00000","cost":"600.20000","fee":"0.00000","vol":"0.02000000","margin":"0.00000","misc":"",` +
		`"trade_id":40274859,"maker":true}},"count":2346}}`
	krakenRateLimited = `{"error":["EAPI:Rate limit exceeded"]}`
)

func TestParseKrakenQueryOrders(t *testing.T) {
	orders, err := normalize.ParseKrakenQueryOrders([]byte(krakenQueryOrdersAnswer), "BTC-USD", nil)
	require.NoError(t, err)
	require.Len(t, orders, 2)
	o := orders[0]
	assert.Equal(t, "BTC-USD", o.Symbol, "the caller's symbol")
	assert.Equal(t, "OBCMZD-JIEE7-77TH3F", o.VenueOrderID.String())
	assert.Equal(t, "bot-7", o.ClientOrderID.String())
	assert.Equal(t, schema.StatusCanceled, o.Status)
	assert.Equal(t, schema.SideBuy, o.Side)
	assert.Equal(t, schema.OrderTypeLimit, o.Type)
	assert.Equal(t, "27500.0", o.Price.String())
	assert.Equal(t, "1.25000000", o.Qty.String())
	assert.Equal(t, "0.37500000", o.CumFillQty.String(), "digits as sent")
	assert.Equal(t, "0.00000000", o.RemainingQty.String(), "canceled: nothing open (FIX LeavesQty)")
	assert.Equal(t, "10312.5", o.CumQuoteQty.String())
	assert.Equal(t, "27500.0", o.AvgPrice.String())
	assert.Equal(t, "User requested", o.RejectReason)
	assert.Equal(t, int64(1688665496780800000), o.OrderCreated)
	assert.Equal(t, int64(1688665499192200000), o.TransactTime)
	assert.Equal(t, []string{"TZX2WP-XSEOP-FP7WYR", "THVRQM-33VKH-UCI7BS"}, o.Trades)

	s := orders[1]
	assert.Equal(t, schema.StatusPartiallyFilled, s.Status, "open with vol_exec > 0")
	assert.True(t, s.ClientOrderID.IsZero(), "null")
	assert.Equal(t, schema.OrderTypeStopLossLimit, s.Type)
	assert.Equal(t, "26000.0", s.StopPrice.String(), "price: the trigger")
	assert.Equal(t, "25900.0", s.Price.String(), "price2: the limit")
	assert.Equal(t, int64(1688592012231700000), s.TransactTime, "open: opentm")
	assert.Empty(t, s.Trades)

	open, err := normalize.ParseKrakenOpenOrders([]byte(krakenOpenAnswer), "BTC-USD", nil)
	require.NoError(t, err)
	require.Len(t, open, 1)
	assert.Equal(t, schema.StatusNew, open[0].Status)
	assert.True(t, open[0].Qty.IsZero(), "viqc: a quote amount, no base quantity")
	assert.Equal(t, "bot-9", open[0].ClientOrderID.String())

	closed, err := normalize.ParseKrakenClosedOrders([]byte(krakenClosedAnswer), "BTC-GBP", nil)
	require.NoError(t, err)
	require.Len(t, closed, 1)
	assert.Equal(t, schema.StatusExpired, closed[0].Status)
	assert.Equal(t, "BTC-GBP", closed[0].Symbol)

	for _, st := range []struct {
		word string
		want schema.OrderStatus
	}{{"pending", schema.StatusPendingNew}, {"open", schema.StatusNew}, {"closed", schema.StatusFilled}} {
		os, err := normalize.ParseKrakenQueryOrders([]byte(`{"error":[],"result":{"O1":{"status":"`+st.word+`","vol":"1","vol_exec":"0"}}}`), "BTC-USD", nil)
		require.NoError(t, err)
		assert.Equal(t, st.want, os[0].Status, st.word)
	}
	empty, err := normalize.ParseKrakenQueryOrders([]byte(`{"error":[],"result":{}}`), "BTC-USD", nil)
	require.NoError(t, err)
	assert.Empty(t, empty)
}

func TestParseKrakenQueryTrades(t *testing.T) {
	fills, err := normalize.ParseKrakenQueryTrades([]byte(krakenQueryTradesAnswer), "BTC-USD", schema.MustID("USD"), nil)
	require.NoError(t, err)
	require.Len(t, fills, 2)
	f := fills[0]
	assert.Equal(t, "93748276", f.TradeID.String(), "trade_id: the executions channel's trade id")
	assert.Equal(t, "THVRQM-33VKH-UCI7BS", f.PageKey.String(), "the trade txid")
	assert.Equal(t, "OBCMZD-JIEE7-77TH3F", f.OrderID.String())
	assert.Equal(t, "BTC-USD", f.Symbol)
	assert.Equal(t, "27500.00000", f.Price.String())
	assert.Equal(t, "0.25000000", f.Qty.String())
	assert.Equal(t, "6875.00000", f.QuoteQty.String())
	assert.Equal(t, "11.00000", f.Fee.String())
	assert.Equal(t, "USD", f.FeeAsset.String(), "fees in quote")
	assert.True(t, f.IsMaker)
	assert.Equal(t, int64(1688667796880200000), f.Time)
	assert.False(t, fills[1].IsMaker)

	noCost, err := normalize.ParseKrakenQueryTrades([]byte(`{"error":[],"result":{"T1":{"ordertxid":"O1","price":"2","vol":"3","trade_id":5}}}`),
		"BTC-USD", schema.ID{}, nil)
	require.NoError(t, err)
	assert.Equal(t, "6", noCost[0].QuoteQty.String(), "price × vol")
}

func TestParseKrakenTradesHistory(t *testing.T) {
	fills, count, err := normalize.ParseKrakenTradesHistory([]byte(krakenHistoryAnswer), "BTC-USD", schema.MustID("USD"), nil)
	require.NoError(t, err)
	assert.Equal(t, 2346, count, "the trades matched in all")
	require.Len(t, fills, 1)
	assert.Equal(t, []string{"40274859", "OQCLML-BW3P3-BUCMWZ", "0.02000000", "600.20000"},
		[]string{fills[0].TradeID.String(), fills[0].OrderID.String(), fills[0].Qty.String(), fills[0].QuoteQty.String()})
	_, _, err = normalize.ParseKrakenTradesHistory([]byte(`{"error":[],"result":{"trades":{},"count":-1}}`), "BTC-USD", schema.ID{}, nil)
	var perr *normalize.ParseError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, "count", perr.Field)
}

// TestKrakenQueryRefusals: Kraken's errors come as strings under HTTP 200;
// each is a *QueryError whose Code says what kind it is, with every
// string in Msg.
func TestKrakenQueryRefusals(t *testing.T) {
	for _, c := range []struct {
		body string
		code int64
	}{
		{krakenRateLimited, normalize.KrakenCodeRateLimit},
		{`{"error":["EGeneral:Too many requests"]}`, normalize.KrakenCodeRateLimit},
		{`{"error":["EService:Throttled: 1695828490"]}`, normalize.KrakenCodeRateLimit},
		{`{"error":["EAPI:Invalid nonce"]}`, normalize.KrakenCodeInvalidNonce},
		{`{"error":["EOrder:Unknown order"]}`, normalize.KrakenCodeUnknownOrder},
		{`{"error":["EService:Unavailable"]}`, normalize.KrakenCodeUnavailable},
		{`{"error":["EGeneral:Invalid arguments","EService:Busy"]}`, normalize.KrakenCodeUnavailable},
		{`{"error":["EAPI:Invalid key"]}`, 0},
	} {
		for _, parse := range krakenParsers() {
			err := parse([]byte(c.body))
			var qerr *normalize.QueryError
			require.ErrorAs(t, err, &qerr, c.body)
			assert.Equal(t, []any{schema.VenueKraken, c.code}, []any{qerr.Venue, qerr.Code}, c.body)
			assert.Contains(t, c.body, strings.Split(qerr.Msg, "; ")[0])
		}
	}
	for _, c := range []struct{ data, field string }{
		{`{"error":[]}`, "result"},
		{`{"error":[],"result":{"O1":{"status":"gone"}}}`, "status"},
		{`{"error":[],"result":{"O1":{"status":"open","vol_exec":"-1"}}}`, "executed qty"},
		{`{"error":[],"result":{"O1":{"status":"open","descr":{"type":"up"}}}}`, "side"},
		{`{"error":[],"result":{"O1":{"status":"open","opentm":-5}}}`, "opentm"},
	} {
		_, err := normalize.ParseKrakenQueryOrders([]byte(c.data), "BTC-USD", nil)
		var perr *normalize.ParseError
		require.ErrorAs(t, err, &perr, c.data)
		assert.Equal(t, c.field, perr.Field, c.data)
	}
	for _, c := range []struct{ data, field string }{
		{`{"error":[],"result":{"T1":{"ordertxid":"O1","price":"1","vol":"1"}}}`, "trade_id"},
		{`{"error":[],"result":{"T1":{"trade_id":1,"price":"1","vol":"1"}}}`, "ordertxid"},
		{`{"error":[],"result":{"T1":{"trade_id":1,"ordertxid":"O1","vol":"1"}}}`, "price"},
		{`{"error":[],"result":{"T1":{"trade_id":1,"ordertxid":"O1","price":"1","vol":"0"}}}`, "vol"},
	} {
		_, err := normalize.ParseKrakenQueryTrades([]byte(c.data), "BTC-USD", schema.ID{}, nil)
		var perr *normalize.ParseError
		require.ErrorAs(t, err, &perr, c.data)
		assert.Equal(t, c.field, perr.Field, c.data)
	}
}

// TestKrakenPrivateRequest: the body is the form-encoded parameters with
// the nonce; API-Sign is the Base64 HMAC-SHA512, under the decoded
// secret, of path + SHA-256(nonce + body).
func TestKrakenPrivateRequest(t *testing.T) {
	secret := []byte("kraken-secret")
	params := url.Values{"txid": {"OBCMZD-JIEE7-77TH3F"}, "trades": {"true"}}
	body, h, err := normalize.KrakenPrivateRequest("key", base64.StdEncoding.EncodeToString(secret), normalize.KrakenPathQueryOrders, 1695828490123, params)
	require.NoError(t, err)
	assert.Equal(t, "nonce=1695828490123&trades=true&txid=OBCMZD-JIEE7-77TH3F", body)
	assert.Len(t, params, 2, "the caller's parameters are not changed")
	sum := sha256.Sum256([]byte("1695828490123" + body))
	mac := hmac.New(sha512.New, secret)
	mac.Write([]byte(normalize.KrakenPathQueryOrders))
	mac.Write(sum[:])
	assert.Equal(t, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "API-Key": "key",
		"API-Sign": base64.StdEncoding.EncodeToString(mac.Sum(nil))}, h)
	_, _, err = normalize.KrakenPrivateRequest("key", "not base64!", normalize.KrakenPathQueryOrders, 1, nil)
	require.ErrorIs(t, err, normalize.ErrBadValue)
	_, _, err = normalize.KrakenPrivateRequest("", "c2VjcmV0", normalize.KrakenPathQueryOrders, 1, nil)
	require.ErrorIs(t, err, normalize.ErrBadValue)
}

func krakenParsers() []func([]byte) error {
	return []func([]byte) error{
		func(b []byte) error { _, err := normalize.ParseKrakenQueryOrders(b, "BTC-USD", nil); return err },
		func(b []byte) error { _, err := normalize.ParseKrakenOpenOrders(b, "BTC-USD", nil); return err },
		func(b []byte) error { _, err := normalize.ParseKrakenClosedOrders(b, "BTC-USD", nil); return err },
		func(b []byte) error {
			_, err := normalize.ParseKrakenQueryTrades(b, "BTC-USD", schema.ID{}, nil)
			return err
		},
		func(b []byte) error {
			_, _, err := normalize.ParseKrakenTradesHistory(b, "BTC-USD", schema.ID{}, nil)
			return err
		},
	}
}

// TestKrakenAnswersBounded: a Kraken result object of more members than
// a page holds is refused before they are decoded.
func TestKrakenAnswersBounded(t *testing.T) {
	member := func(i int) string { return `"T` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `":{}` }
	var b strings.Builder
	for i := range normalize.MaxQueryPage + 1 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(member(i))
	}
	for _, parse := range krakenParsers()[:1] {
		err := parse([]byte(`{"error":[],"result":{` + b.String() + `}}`))
		require.ErrorIs(t, err, normalize.ErrMalformed)
		assert.Contains(t, err.Error(), "more entries than a page holds")
	}
}

// FuzzKrakenQueryAnswers: whatever the answer, the decoders return orders
// and fills that hold together, or a typed error; never a panic.
func FuzzKrakenQueryAnswers(f *testing.F) {
	for _, s := range []string{krakenQueryOrdersAnswer, krakenQueryTradesAnswer, krakenOpenAnswer, krakenClosedAnswer, krakenHistoryAnswer, krakenRateLimited,
		`{"error":[],"result":{"O1":{}}}`, `{"error":[],"result":null}`, `{"error":"x"}`, `{"error":[],"result":{"open":[]}}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func() ([]normalize.KrakenOrder, error){
			func() ([]normalize.KrakenOrder, error) { return normalize.ParseKrakenQueryOrders(data, "BTC-USD", nil) },
			func() ([]normalize.KrakenOrder, error) { return normalize.ParseKrakenOpenOrders(data, "BTC-USD", nil) },
			func() ([]normalize.KrakenOrder, error) {
				return normalize.ParseKrakenClosedOrders(data, "BTC-USD", nil)
			},
		} {
			orders, err := parse()
			checkKrakenAnswer(t, err)
			for _, o := range orders {
				checkOrders(t, []normalize.QueryOrder{o.QueryOrder})
				if len(o.Trades) > normalize.KrakenMaxOrderTrades {
					t.Fatalf("%d trades", len(o.Trades))
				}
			}
		}
		fills, err := normalize.ParseKrakenQueryTrades(data, "BTC-USD", schema.ID{}, nil)
		checkKrakenAnswer(t, err)
		checkFills(t, fills)
		fills, count, err := normalize.ParseKrakenTradesHistory(data, "BTC-USD", schema.ID{}, nil)
		checkKrakenAnswer(t, err)
		checkFills(t, fills)
		if count < 0 {
			t.Fatalf("count %d", count)
		}
	})
}

// checkKrakenAnswer: an error is a *QueryError (Kraken's error strings,
// Code 0 for one of no known kind) or a *ParseError.
func checkKrakenAnswer(t *testing.T, err error) {
	var qerr *normalize.QueryError
	var perr *normalize.ParseError
	if err != nil && !errors.As(err, &qerr) && !errors.As(err, &perr) {
		t.Fatalf("untyped error %v", err)
	}
}
