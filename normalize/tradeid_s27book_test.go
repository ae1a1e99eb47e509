package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A trade's id is one of the keys its venue always sends (Bybit v5
// "Trade": "i", the trade ID; Coinbase Exchange "match": trade_id), and
// normalize/doc.go lists it as required. Sent as the venues' "none" —
// null, -1 or "" — it is no id: the trade was published with an empty
// ID, which a strategy cannot tell from a venue without ids and which
// repeat detection cannot see. It is a *ParseError (ErrMissingField)
// naming the key, as an absent id is.
func TestS27TradeIDNoneIsMissing(t *testing.T) {
	const bybit = `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":ID,"BT":false}]}`
	const cbMatch = `{"type":"match","trade_id":ID,"maker_order_id":"a","taker_order_id":"b","side":"sell","size":"985","price":"0.00001305","product_id":"SKL-BTC","sequence":177100030,"time":"2021-04-17T16:43:37.089723Z"}`
	for _, c := range []struct{ venue, msg, field string }{
		{"bybit", bybit, "i"},
		{"coinbase", cbMatch, "trade_id"},
	} {
		for _, none := range []string{"null", "-1", `""`} {
			t.Run(c.venue+" "+none, func(t *testing.T) {
				sink, events, err := handleOne(t, c.venue, strings.Replace(c.msg, "ID", none, 1))
				requireParseError(t, err, c.field, ErrMissingField)
				assert.Empty(t, sink.got, "a trade without its id was published")
				assert.Zero(t, events.Stats().InUse)
			})
		}
	}
}

// A trade's time and side are sent with every trade (OKX v5 "Trades
// channel": ts; Kraken v2 "trade": timestamp; Kraken v1 "trade": the
// array [price, volume, time, side, orderType, misc]). Absent or null,
// the trade was published at time 0 (ExchangeTS, the time of the fact,
// 1970) or with no side. It is a *ParseError (ErrMissingField) naming
// the member.
func TestS27TradeTimeAndSide(t *testing.T) {
	for _, c := range []struct{ name, venue, msg, field string }{
		{"okx ts null", "okx", `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.9","sz":"0.12060306","side":"buy","ts":null}]}`, "ts"},
		{"okx ts absent", "okx", `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.9","sz":"0.12060306","side":"buy"}]}`, "ts"},
		{"kraken v2 timestamp null", "kraken", `{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":68500.0,"qty":0.01044926,"ord_type":"limit","trade_id":70635299,"timestamp":null}]}`, "timestamp"},
		{"kraken v2 timestamp absent", "kraken", `{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":68500.0,"qty":0.01044926,"ord_type":"limit","trade_id":70635299}]}`, "timestamp"},
		{"kraken v1 time null", "kraken", `[993,[["354.11000000","0.89594024",null,"s","l",""]],"trade","XMR/USD"]`, "2"},
		{"kraken v1 side null", "kraken", `[993,[["354.11000000","0.89594024","1618678142.557535",null,"l",""]],"trade","XMR/USD"]`, "3"},
		{"kraken v1 short", "kraken", `[993,[["354.11000000","0.89594024"]],"trade","XMR/USD"]`, "2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, events, err := handleOne(t, c.venue, c.msg)
			requireParseError(t, err, c.field, ErrMissingField)
			assert.Empty(t, sink.got, "a trade without its time or side was published")
			assert.Zero(t, events.Stats().InUse)
		})
	}
}
