package normalize

import (
	"strings"
	"testing"

	"github.com/meltica/meltica/schema"
)

// Fuzz targets of the parsers s39norm changed: the order-type words
// (ordertypes_s39norm_test.go), Bybit's stopOrderType, OKX's algo ordType
// and amendResult held by the message (amend_s39norm_test.go), seeded
// with those frames and with the sweep's edge numbers
// (precision_s39norm_test.go). The first seed is fed first each run.

func FuzzS39normBinanceTypes(f *testing.F) {
	order := func(typ, q string) string {
		return `{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT","c":"autoclose-1","S":"SELL","o":"` + typ + `","f":"IOC","q":"` + q + `","p":"0","sp":"0","x":"NEW","X":"NEW","i":3,"l":"0","z":"0","L":"0","T":1,"t":0,"ps":"BOTH","ot":"` + typ + `"}}`
	}
	fuzzS35Reports(f, schema.VenueBinance, order("LIQUIDATION", "1"), order("TRAILING_STOP_MARKET", "0.000000000000000001"),
		order("LIQUIDATION", "999999999999999.999"), order("STOP", "9223372036854775808"))
}

func FuzzS39normKrakenTypes(f *testing.F) {
	push := func(typ, qty string) string {
		return `{"channel":"executions","type":"update","data":[{"order_id":"OK-1","symbol":"BTC/USD","order_qty":` + qty + `,"side":"buy","order_type":"` + typ + `","limit_price":42000.1,"exec_type":"new","order_status":"new","timestamp":"2024-01-02T03:04:04.000000Z"}],"sequence":1}`
	}
	fuzzS35Reports(f, schema.VenueKraken, push("trailing-stop", "0.5"), push("trailing-stop-limit", "0.000000000000000001"),
		push("settle-position", "1000000000000000"), push("iceberg", "1E-18"))
}

func FuzzS39normCoinbaseTypes(f *testing.F) {
	user := func(typ string) string {
		return strings.Replace(string(coinbaseUser("update", "OPEN", "0.000000000000000001", "0.999999999999999999", "0.00000001", "0")), `"order_type":"LIMIT"`, `"order_type":"`+typ+`"`, 1)
	}
	fuzzS35Reports(f, schema.VenueCoinbase, string(coinbaseUser("snapshot", "OPEN", "0", "1", "0", "0")), user("BRACKET"), user("Stop"), user("STOP"))
}

func FuzzS39normBybitTypes(f *testing.F) {
	order := func(typ, stop string) string {
		return strings.Replace(s37normBybitOrder("Untriggered", "100", "1672364262474", "1672364262457"),
			`"orderType":"Limit"`, `"orderType":"`+typ+`","stopOrderType":"`+stop+`","triggerPrice":"99.000000000000000001"`, 1)
	}
	fuzzS35Reports(f, schema.VenueBybit, order("Limit", "Stop"), order("Market", "TrailingStop"), order("Limit", "PartialTakeProfit"),
		order("Market", "OcoOrder"), order("Limit", "tpslOrder"))
}

func FuzzS39normOKXTypes(f *testing.F) {
	cond := strings.NewReplacer(`"ordType":"trigger"`, `"ordType":"conditional"`, `"slOrdPx":""`, `"slOrdPx":"28900.000000000000000001"`,
		`"slTriggerPx":""`, `"slTriggerPx":"29000"`, `"triggerPx":"30000"`, `"triggerPx":""`).Replace(okxAlgo("orders-algo", "live"))
	trail := strings.NewReplacer(`"ordType":"trigger"`, `"ordType":"move_order_stop"`, `"triggerPx":"30000"`, `"triggerPx":"","moveTriggerPx":"30000"`).
		Replace(okxAlgo("algo-advance", "live"))
	refused := strings.Replace(okxOrderPush("partially_filled", "0.5", "-0.01", "0"), `"cTime":"1646637216765"`, `"cTime":"-5"`, 1)
	fuzzS35Reports(f, schema.VenueOKX, okxOrderPush("partially_filled", "0.5", "-0.01", ""), refused,
		okxOrderPush("partially_filled", "0.5", "-0.01", "0"), okxOrderPush("partially_filled", "0.5", "-0.01", "-1"), cond, trail)
}
