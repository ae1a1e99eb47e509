package normalize

import (
	"strings"
	"testing"

	"github.com/meltica/meltica/schema"
)

// Fuzz targets of the parsers s38norm changed: the Kraken book's depth
// and Binance contract status held until a message is accepted
// (memo_s38norm_test.go), and the time-in-force and order-type words it
// added (words_s38norm_test.go). The first seed is fed first each run.

func FuzzS38normKrakenBook(f *testing.F) {
	fuzzS35Reports(f, schema.VenueKraken, krV2Snapshot(10),
		strings.Replace(krV2Snapshot(25), `"checksum":1}`, `"checksum":1,"timestamp":"not a time"}`, 1),
		strings.Replace(krV2Snapshot(10), `"checksum":1}`, `"checksum":1099511627776}`, 1),
		krV2Snapshot(7), krV2Update, krV2Ack(100), strings.Replace(krV2Ack(100), `"subscribe"`, `"unsubscribe"`, 1))
}

func FuzzS38normBinanceWords(f *testing.F) {
	fuzzS35Reports(f, schema.VenueBinance, `{"e":"contractInfo","E":1669356423900,"s":"IOTAUSDT","cs":"TRADING"}`,
		`{"e":"contractInfo","E":1669356423908,"s":"IOTAUSDT","ps":"IOTAUSDT","ct":"PERPETUAL","dt":4133404800000,"ot":1569398400000,"cs":"SETTLING"}`,
		`{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT","c":"a","S":"BUY","o":"LIMIT","f":"GTD","q":"1","p":"2","x":"NEW","X":"NEW","i":3,"l":"0","z":"0","L":"0","T":1,"t":0,"ps":"BOTH","gtd":1693207680000}}`)
}

func FuzzS38normBybitWords(f *testing.F) {
	fuzzS35Reports(f, schema.VenueBybit, s37normBybitOrder("New", "100", "1672364262474", "1672364262457"),
		strings.Replace(s37normBybitOrder("New", "101", "1672364262474", "1672364262500"), `"timeInForce":"GTC"`, `"timeInForce":"RPI"`, 1))
}

func FuzzS38normOKXWords(f *testing.F) {
	fuzzS35Reports(f, schema.VenueOKX, `{"arg":{"channel":"orders","instType":"SPOT"},"data":[{"instId":"BTC-USDT","ordId":"1","clOrdId":"c1","side":"sell","ordType":"elp","px":"100","sz":"2","state":"live","uTime":"1700000000000","cTime":"1700000000000"}]}`,
		`{"arg":{"channel":"orders","instType":"SPOT"},"data":[{"instId":"BTC-USDT","ordId":"1","clOrdId":"c1","side":"sell","ordType":"elp","px":"100","sz":"2","state":"canceled","uTime":"1700000000001","cTime":"1700000000000"}]}`)
}
