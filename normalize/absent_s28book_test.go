package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Members the venues' docs say may be absent, empty or "none" are taken:
// the message is an event, not an error.
func TestS28DocumentedAbsencesAccepted(t *testing.T) {
	for _, c := range []struct {
		name, venue, msg string
		typ              schema.EventType
	}{
		// Binance "Kline/Candlestick Streams": f and L are -1 for a candle
		// with no trade.
		{"binance kline without trades", "binance", `{"e":"kline","E":1700000060001,"s":"BTCUSDT","k":{"t":1700000000000,"T":1700000059999,"s":"BTCUSDT","i":"1m","f":-1,"L":-1,"o":"37000.00","c":"37000.00","h":"37000.00","l":"37000.00","v":"0","n":0,"x":false,"q":"0","V":"0","Q":"0","B":"0"}}`, schema.EventKlineLive},
		// "Individual Symbol Ticker Streams": F and L are -1 with no trade
		// in the window; USDⓈ-M and COIN-M send no x, b, B, a, A.
		{"binance ticker without trades", "binance", `{"e":"24hrTicker","E":1672515782136,"s":"BNBBTC","p":"0","P":"0","w":"0","x":"0","c":"0.5","Q":"0","b":"0.4","B":"1","a":"0.6","A":"1","o":"0.5","h":"0.5","l":"0.5","v":"0","q":"0","O":1672429382136,"C":1672515782136,"F":-1,"L":-1,"n":0}`, schema.EventTicker},
		{"binance futures ticker", "binance", `{"e":"24hrTicker","E":123456789,"s":"BTCUSDT","p":"0.0015","P":"250.00","w":"0.0018","c":"0.0025","Q":"10","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,"F":0,"L":18150,"n":18151}`, schema.EventTicker},
		{"binance mini ticker", "binance", `{"e":"24hrMiniTicker","E":1672515782136,"s":"BNBBTC","c":"0.0025","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"}`, schema.EventTicker},
		// OKX "Tickers channel": "" where there is none (a new listing).
		{"okx ticker with empty members", "okx", `{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instType":"SPOT","instId":"BTC-USDT","last":"","lastSz":"","askPx":"","askSz":"","bidPx":"","bidSz":"","open24h":"","high24h":"","low24h":"","sodUtc0":"","sodUtc8":"","volCcy24h":"0","vol24h":"0","ts":"1652459224956"}]}`, schema.EventTicker},
		// OKX "All trades channel" (trades-all) has no count.
		{"okx trades-all", "okx", `{"arg":{"channel":"trades-all","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.9","sz":"0.12060306","side":"buy","source":"0","ts":"1630048897897"}]}`, schema.EventTrade},
		// Bybit v5 "Ticker", spot: no bid/ask, mark, index, funding.
		{"bybit spot ticker", "bybit", `{"topic":"tickers.BTCUSDT","ts":1673853746003,"type":"snapshot","cs":2588407389,"data":{"symbol":"BTCUSDT","lastPrice":"21109.77","highPrice24h":"21426.99","lowPrice24h":"20575","prevPrice24h":"20704.93","volume24h":"6780.866843","turnover24h":"141946527.22907118","price24hPcnt":"0.0196","usdIndexPrice":"21120.2400136"}}`, schema.EventTicker},
		// Bybit v5 "Trade", spot: no tick direction "L".
		{"bybit spot trade", "bybit", `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","i":"2290000000007764263","BT":false,"seq":1783284617}]}`, schema.EventTrade},
		// Kraken v2 "ticker" before timestamp was added.
		{"kraken ticker without timestamp", "kraken", `{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":65843.7,"bid_qty":12.3,"ask":65843.8,"ask_qty":0.3,"last":65843.7,"volume":4182.5,"vwap":64223.4,"low":61325.4,"high":66450.0,"change":-4213.8,"change_pct":-6.84}]}`, schema.EventTicker},
		// Coinbase Exchange "ticker": the first after subscribing has no
		// trade yet (no trade_id, last_size, side, time).
		{"coinbase exchange first ticker", "coinbase", `{"type":"ticker","sequence":37475248783,"product_id":"ETH-USD","price":"1285.22","open_24h":"1310.79","volume_24h":"245532.79269678","low_24h":"1280.52","high_24h":"1313.8","volume_30d":"9788783.60117027","best_bid":"1285.04","best_bid_size":"0.46688654","best_ask":"1285.27","best_ask_size":"1.56637040"}`, schema.EventTicker},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, _, err := handleOne(t, c.venue, c.msg)
			require.NoError(t, err)
			require.Len(t, sink.got, 1)
			assert.Equal(t, c.typ, sink.got[0].Type)
		})
	}
}
