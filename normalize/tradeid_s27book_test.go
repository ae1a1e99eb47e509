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
