package normalize

import (
	"testing"

	"github.com/meltica/meltica/schema"
)

// Fuzz targets of the parsers s34norm changed, seeded with the documented
// messages of the channels they now classify (channels_s34norm_test.go)
// besides each venue's fixtures.

func FuzzS34OKXFrame(f *testing.F) {
	for _, s := range []string{
		`{"arg":{"channel":"status"},"data":[{"begin":"1672823400000","end":"1672823520000","href":"","preOpenBegin":"","scheDesc":"","serviceType":"0","state":"scheduled","system":"unified","maintType":"1","env":"1","title":"Trading account WebSocket system upgrade","ts":"1672826038470"}]}`,
		`{"arg":{"channel":"open-interest","instId":"LTC-USD-SWAP"},"data":[{"instType":"SWAP","instId":"LTC-USD-SWAP","oi":"5000","oiCcy":"555.55","oiUsd":"50000","ts":"1597026383085"}]}`,
		`{"arg":{"channel":"fills","uid":"614488474791111"},"data":[{"instId":"BTC-USDT-SWAP","fillSz":"100","fillPx":"70000","side":"buy","ts":"1705449605015","ordId":"680800019749904384","clOrdId":"1234567890","tradeId":"12345","execType":"T","count":"10"}]}`,
	} {
		f.Add([]byte(s))
	}
	fuzzVenue(f, schema.VenueOKX)
}

func FuzzS34BybitFrame(f *testing.F) {
	for _, s := range []string{
		`{"topic":"system.status","ts":1751858399649,"data":[{"id":"4d95b2a0-587f-11f0-bcc9-56f28c94d6ea","title":"t06","state":"completed","begin":"1751596902000","end":"1751597011000","href":"","serviceTypes":[2,3,4,5],"product":[1,2],"uidSuffix":[],"maintainType":1,"env":1}]}`,
		`{"topic":"greeks","creationTime":1672364262482,"data":[{"baseCoin":"ETH","totalDelta":"0.06999986"}]}`,
		`{"topic":"dcp.future","creationTime":1672364262482,"data":[{"category":"future","dcpStatus":"ON","timeWindow":"10"}]}`,
		bybitOrderPush(bybitFastOrderID, "Active", "12.015", "3000", "0", "0", "3000"),
		bybitFast("execution.fast", "spot", "BTCUSDT", "", true),
	} {
		f.Add([]byte(s))
	}
	fuzzVenue(f, schema.VenueBybit)
}

func FuzzS34KrakenFrame(f *testing.F) {
	for _, s := range []string{
		`{"channel":"instrument","type":"snapshot","data":{"assets":[{"id":"USD","status":"enabled","precision":4}],"pairs":[{"symbol":"EUR/USD","base":"EUR","quote":"USD","status":"online"}]}}`,
		`{"channel":"level3","type":"snapshot","data":[{"symbol":"MATIC/USD","checksum":281817320,"bids":[{"order_id":"O6ZQNQ-BXL4E-5WGINO","limit_price":0.5629,"order_qty":111.56125344,"timestamp":"2023-10-06T17:35:00.279389650Z"}],"asks":[]}]}`,
	} {
		f.Add([]byte(s))
	}
	fuzzVenue(f, schema.VenueKraken)
}

func FuzzS34CoinbaseFrame(f *testing.F) {
	for _, s := range []string{
		`{"channel":"status","client_id":"","timestamp":"2023-02-09T20:29:49.753424311Z","sequence_num":0,"events":[{"type":"snapshot","products":[{"product_type":"SPOT","id":"BTC-USD","status":"online"}]}]}`,
		`{"type":"status","products":[{"id":"BTC-USD","status":"online","status_message":null}],"currencies":[]}`,
	} {
		f.Add([]byte(s))
	}
	fuzzVenue(f, schema.VenueCoinbase)
}

func FuzzS34BinanceContractInfo(f *testing.F) {
	f.Add([]byte(`{"e":"contractInfo","E":1669356423908,"s":"IOTAUSDT","ps":"IOTAUSDT","ct":"PERPETUAL","dt":4133404800000,"ot":1569398400000,"cs":"TRADING","bks":[{"bs":1,"bnf":0,"bnc":5000,"mmr":0.01,"cf":0,"mi":21,"ma":50}]}`))
	fuzzKind(f, bnContractInfo)
}
