package normalize

import (
	"strings"
	"testing"

	"github.com/meltica/meltica/schema"
)

// FuzzS41normBybitFast: fast fills after an order-topic report of their
// order (its type remembered, typeOf), the order ended (the ended ring).
func FuzzS41normBybitFast(f *testing.F) {
	filled := strings.Replace(bybitOrderPush(bybitFastOrderID, "Filled", "12.015", "1000", "0", "1000", "0"),
		`"orderType":"Limit"`, `"orderType":"Limit","stopOrderType":"tpslOrder","triggerDirection":1`, 1)
	fuzzS35Reports(f, schema.VenueBybit, filled, bybitFast("execution.fast", "spot", "BTCUSDT", "", true),
		bybitFast("execution.fast.linear", "linear", "BTCUSDT", "l-1", false),
		`{"topic":"execution.fast","creationTime":1716800399338,"data":[{"category":"spot","symbol":"BTCUSDT","orderId":"`+bybitFastOrderID+
			`","isMaker":true,"orderLinkId":"","execId":"e2","execPrice":"1","execQty":"1","side":"Buy","execTime":"1716800399334","seq":1,"orderType":"Market"}]}`)
}

// FuzzS41normKrakenUnits: later reports of an order whose earlier report
// said its prices' units (krUnits, remembered with the order).
func FuzzS41normKrakenUnits(f *testing.F) {
	const amended = `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","exec_type":"amended","order_status":"new","amended":true,"timestamp":"2024-01-02T03:04:05.000000Z",`
	fuzzS35Reports(f, schema.VenueKraken,
		`{"channel":"executions","type":"update","data":[{"order_id":"OK-1","symbol":"BTC/USD","order_qty":0.5,"side":"sell","exec_type":"new","order_status":"new","timestamp":"2024-01-02T03:04:04.000000Z",`+
			`"order_type":"trailing-stop-limit","limit_price":41000.5,"limit_price_type":"static","triggers":{"reference":"last","price":1.5,"price_type":"pct"}}],"sequence":1}`,
		amended+`"limit_price":41100.5}],"sequence":2}`, amended+`"triggers":{"reference":"last","price":3.0}}],"sequence":2}`,
		amended+`"limit_price":-2,"limit_price_type":"quote","triggers":{"price":40200,"price_type":"static"}}],"sequence":3}`,
		amended+`"limit_price_type":"bogus","triggers":{"price_type":7}}],"sequence":3}`)
}

// FuzzS41normCoinbaseMaker: fills of a post-only order (IsMaker) and of
// a plain one.
func FuzzS41normCoinbaseMaker(f *testing.F) {
	postOnly := func(msg []byte) string {
		return strings.Replace(string(msg), `"post_only":"false"`, `"post_only":true`, 1)
	}
	fuzzS35Reports(f, schema.VenueCoinbase, postOnly(coinbaseUser("update", "OPEN", "0", "1", "0", "0")),
		postOnly(coinbaseUser("update", "OPEN", "0.4", "0.6", "20000", "-2")), string(coinbaseUser("update", "FILLED", "1", "0", "50000", "-5")),
		postOnly(coinbaseUser("snapshot", "OPEN", "0.5", "0.5", "25000", "0")))
}
