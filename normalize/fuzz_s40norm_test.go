package normalize

import (
	"strings"
	"testing"

	"github.com/meltica/meltica/schema"
)

// Fuzz targets of the parsers s40norm changed: Kraken executions' price
// units (limit_price_type, triggers; trailing_s40norm_test.go) and Bybit's
// tpslOrder direction (tpsl_s40norm_test.go), seeded with those frames.
// The first seed is fed first each run.

func FuzzS40normKrakenPriceUnits(f *testing.F) {
	push := func(fields string) string {
		return `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","symbol":"BTC/USD","order_qty":0.5,"side":"sell","exec_type":"new","order_status":"new","timestamp":"2024-01-02T03:04:04.000000Z",` + fields + `}],"sequence":1}`
	}
	later := `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","exec_type":"restated","order_status":"new","limit_price":-3,"triggers":{"price":-1.5,"price_type":"pct"},"timestamp":"2024-01-02T03:04:05.000000Z"}],"sequence":2}`
	fuzzS35Reports(f, schema.VenueKraken, push(`"order_type":"trailing-stop-limit","limit_price":-150,"limit_price_type":"quote","triggers":{"reference":"last","price":2.5,"price_type":"pct"}`),
		later, push(`"order_type":"stop-loss-limit","limit_price":40000,"triggers":{"reference":"index","price":40100,"price_type":"static","status":"untriggered"}`),
		push(`"order_type":"trailing-stop","triggers":{"price":0.000000000000000001,"price_type":"quote"}`),
		push(`"order_type":"take-profit","limit_price_type":"static","triggers":[1,2]`))
}

func FuzzS40normBybitTpsl(f *testing.F) {
	order := func(side, typ, extra string) string {
		m := strings.Replace(s37normBybitOrder("Untriggered", "100", "1672364262474", "1672364262457"),
			`"orderType":"Limit"`, `"orderType":"`+typ+`","stopOrderType":"tpslOrder","triggerPrice":"99",`+extra, 1)
		return strings.Replace(m, `"side":"Sell"`, `"side":"`+side+`"`, 1)
	}
	fuzzS35Reports(f, schema.VenueBybit, order("Sell", "Market", `"triggerDirection":1`), order("Buy", "Limit", `"triggerDirection":2`),
		order("Sell", "Limit", `"lastPriceOnCreated":"95.000000000000000001"`), order("Buy", "Market", `"triggerDirection":"1","lastPriceOnCreated":"-1"`))
}
