package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// No venue's book has a level at price 0: every venue's book levels are
// prices a limit order rests at, and every venue's tick is positive. A
// level "0" with a quantity is bad input: kept, it is a bid at the bottom
// of the book that no one can see is false, or an ask below every bid
// that crosses the book. It is a *ParseError (ErrBadValue), on every
// venue's book shape; a zero quantity still deletes.
func TestBookLevelAtPriceZero(t *testing.T) {
	for _, c := range []struct{ venue, msg string }{
		{"binance", `{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":10,"u":11,"b":[["0.00","1.0"]],"a":[]}`},
		{"okx", `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["0","415","0","13"]],"bids":[],"ts":"1597026383085","checksum":0,"prevSeqId":122,"seqId":123}]}`},
		{"bybit", `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[["0","1"]],"a":[],"u":5,"seq":1},"cts":1}`},
		{"kraken", `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":0,"qty":1.5}],"asks":[],"checksum":123,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`},
		{"kraken", `[1,{"b":[["0.00000","1.00000000","1700000000.1"]],"c":"5"},"book-10","XBT/USD"]`},
		{"coinbase", `{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":3,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"offer","event_time":"2023-02-09T20:32:50.714964Z","price_level":"0.00","new_quantity":"1"}]}]}`},
		{"coinbase", `{"type":"l2update","product_id":"BTC-USD","changes":[["sell","0.00","1.0"]],"time":"2023-02-09T20:32:50.714964Z"}`},
	} {
		t.Run(c.venue, func(t *testing.T) {
			sink, events, err := handleOne(t, c.venue, c.msg)
			var pe *ParseError
			require.ErrorAs(t, err, &pe, "a level at price 0 was taken")
			assert.ErrorIs(t, err, ErrBadValue)
			for _, ev := range sink.got {
				for _, l := range append(ev.Book.Bids, ev.Book.Asks...) {
					assert.False(t, l.Price.IsZero(), "a level at price 0 was published")
				}
			}
			assert.Zero(t, events.Stats().InUse)
		})
	}
}
