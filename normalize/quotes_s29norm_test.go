package normalize

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// timedQuoteCases are quote streams without a venue number but with the
// exchange time of the fact: msg(v, ms) is a real message (shapes from
// the venues' docs) whose content varies with v, at time ms.
var timedQuoteCases = []quoteCase{
	// Binance WebSocket Streams, "Individual Symbol Mini Ticker Stream":
	// "E" event time, no id.
	{schema.VenueBinance, "miniTicker E", func(v uint64, ms int64) string {
		return fmt.Sprintf(`{"e":"24hrMiniTicker","E":%d,"s":"BTCUSDT","c":"0.00%d5","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"}`, ms, v)
	}},
	{schema.VenueBinance, "combined miniTicker E", func(v uint64, ms int64) string {
		return fmt.Sprintf(`{"stream":"btcusdt@miniTicker","data":{"e":"24hrMiniTicker","E":%d,"s":"BTCUSDT","c":"0.00%d5","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"}}`, ms, v)
	}},
	// Binance USDⓈ-M "Mark Price Stream": "E" event time.
	{schema.VenueBinance, "markPriceUpdate E", func(v uint64, ms int64) string {
		return fmt.Sprintf(`{"e":"markPriceUpdate","E":%d,"s":"BTCUSDT","p":"11794.1%d","i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}`, ms, v)
	}},
	// OKX v5 "Tickers channel": "ts", ticker data generation time.
	{schema.VenueOKX, "tickers ts", func(v uint64, ms int64) string {
		return fmt.Sprintf(`{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instType":"SPOT","instId":"BTC-USDT","last":"3023%d","lastSz":"0.0002","askPx":"30228.7","askSz":"1.55896972","bidPx":"30228.6","bidSz":"0.23393","open24h":"29700.4","high24h":"31073","low24h":"28020.3","sodUtc0":"29028.8","sodUtc8":"30337.7","volCcy24h":"525802090.62716611","vol24h":"17602.13085371","ts":"%d"}]}`, v, ms)
	}},
	// Kraken WebSocket v2 "ticker": "timestamp" (RFC 3339).
	{schema.VenueKraken, "v2 ticker timestamp", func(v uint64, ms int64) string {
		return fmt.Sprintf(`{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":65843.7,"bid_qty":12.31628629,"ask":65843.8,"ask_qty":0.31232000,"last":6584%d.7,"volume":4182.59447976,"vwap":64223.4,"low":61325.4,"high":66450.0,"change":4213.8,"change_pct":6.84,"timestamp":"%s"}]}`,
			v, time.UnixMilli(ms).UTC().Format(time.RFC3339Nano))
	}},
}

// S29: after an unaligned rotation or a reconnection's overlap, a quote
// the venue does not number was delivered even when it was older than one
// delivered (contract 4: never stale). Compared by the exchange time of
// the fact: a strictly older one is dropped and counted, the same bytes at
// the same time are the same quote again (dropped), and a different quote
// at the same time is a distinct update (delivered). Failed before the
// fix: the older and the repeated quotes were delivered.
func TestS29TimedQuoteNeverOlderThanDelivered(t *testing.T) {
	steps := []quoteStep{
		{1, 2000, 1, true},
		{2, 1999, 2, false}, // older
		{1, 2000, 3, false}, // the same quote again
		{3, 2000, 4, true},  // another update at the same time
		{4, 2001, 5, true},
		{3, 2000, 6, false},
		{1, 1000, 5 + quoteRepeatWindow - 1, false},
		// The venue's clock went back for longer than the window: the
		// stream is followed, never silenced for good.
		{2, 1000, 5 + quoteRepeatWindow, true},
		{3, 1001, 6 + quoteRepeatWindow, true},
	}
	for _, c := range timedQuoteCases {
		t.Run(string(c.venue)+" "+c.name, func(t *testing.T) { runQuoteSteps(t, c, steps, 4) })
	}
}

// Two symbols, or two views, of one stream kind keep their own marks: an
// older time of another symbol is no repeat, nor is a Binance partial
// depth view (depth5, depth20) whose lastUpdateId the other view already
// sent (one book, one numbering, two views).
func TestS29QuoteMarksPerSymbolAndView(t *testing.T) {
	t.Run("symbols", func(t *testing.T) {
		p, sink, _ := newRecParser(t, nil)
		for i, m := range []string{
			`{"e":"24hrMiniTicker","E":2000,"s":"BTCUSDT","c":"1","o":"1","h":"1","l":"1","v":"1","q":"1"}`,
			`{"e":"24hrMiniTicker","E":1000,"s":"ETHUSDT","c":"1","o":"1","h":"1","l":"1","v":"1","q":"1"}`,
		} {
			require.NoError(t, p.HandleBytes(context.Background(), []byte(m), int64(i+1)))
		}
		require.Len(t, sink.got, 2)
	})
	t.Run("partial depth views", func(t *testing.T) {
		p, sink, _ := newRecParser(t, nil)
		depth := func(view string, u int) string {
			return fmt.Sprintf(`{"stream":"bnbbtc@%s","data":{"lastUpdateId":%d,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}}`, view, u)
		}
		for i, m := range []string{depth("depth5", 160), depth("depth20", 160), depth("depth5", 159), depth("depth20", 158), depth("depth5", 160), depth("depth20", 161)} {
			require.NoError(t, p.HandleBytes(context.Background(), []byte(m), int64(i+1)))
		}
		var got []string
		for _, ev := range sink.got {
			got = append(got, fmt.Sprint(ev.Book.Depth, ":", ev.Book.LastSeq))
		}
		require.Equal(t, []string{"5:160", "20:160", "20:161"}, got)
		require.Equal(t, uint64(3), p.Stats().Repeats)
	})
}

// Binance partial depth (spot: "lastUpdateId", no time; USDⓈ-M: "u" and
// "E"; Binance "Partial Book Depth Streams") is a book top served
// latest-wins: one not newer than the last delivered of its view is
// dropped. Failed before the fix: delivered.
func TestS29PartialDepthRepeats(t *testing.T) {
	p, sink, _ := newRecParser(t, nil)
	fut := func(u, ms int) string {
		return fmt.Sprintf(`{"stream":"btcusdt@depth5@100ms","data":{"e":"depthUpdate","E":%d,"T":%d,"s":"BTCUSDT","U":%d,"u":%d,"pu":%d,"b":[["7403.89","0.002"]],"a":[["7405.96","3.340"]]}}`, ms, ms-1, u-5, u, u-6)
	}
	for i, m := range []string{fut(100, 2000), fut(99, 1999), fut(100, 2000), fut(101, 2001)} {
		require.NoError(t, p.HandleBytes(context.Background(), []byte(m), int64(i+1)))
	}
	var got []uint64
	for _, ev := range sink.got {
		got = append(got, ev.Book.LastSeq)
	}
	require.Equal(t, []uint64{100, 101}, got)
	require.Equal(t, uint64(2), p.Stats().Repeats)
}

// Bybit spot tickers carry "cs" too (Bybit v5 "Ticker", spot example:
// "cs":2588407389): their repeats are dropped as the derivatives' are
// (held before S29: a test that they stay so).
func TestS29BybitSpotTickerRepeat(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewBybit(events, sink, nil)
	spot := func(cs, ms int) string {
		return fmt.Sprintf(`{"topic":"tickers.BTCUSDT","ts":%d,"type":"snapshot","cs":%d,"data":{"symbol":"BTCUSDT","lastPrice":"21109.77","highPrice24h":"21426.99","lowPrice24h":"20575","prevPrice24h":"20704.93","volume24h":"6780.866843","turnover24h":"141946527.22907118","price24hPcnt":"0.0196","usdIndexPrice":"21120.2400136"}}`, ms, cs)
	}
	for i, m := range []string{spot(10, 2000), spot(9, 1999), spot(10, 2000), spot(11, 2001)} {
		require.NoError(t, p.HandleBytes(context.Background(), []byte(m), int64(i+1)))
	}
	require.Len(t, sink.got, 2)
	require.Equal(t, uint64(2), p.Stats().Repeats)
}

// The marks of unnumbered quotes cost no allocation either.
func TestS29TimedQuoteZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	for _, c := range timedQuoteCases {
		t.Run(string(c.venue)+" "+c.name, func(t *testing.T) {
			requireQuoteZeroAllocs(t, c.venue, func(i int) string { return c.msg(uint64(i%10), int64(5000+i)) })
		})
	}
}
