package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Binance's UTC+8 klines (Spot "WebSocket Streams", "Kline/Candlestick
// Streams with timezone offset": <symbol>@kline_<interval>@+08:00, the
// candles open and close in UTC+8, "i" the bare interval) are named
// "<interval>+08:00", as OKX's UTC+8 candles, so that a host and the
// dispatcher (which keys klines by interval) keep them apart from the UTC
// klines of the same interval. Before, both were "1d" (one latest-wins
// slot), and the stream name could not be subscribed: BinanceStream
// refused the "+".
func TestS33leadBinanceUTC8KlinesNamedApart(t *testing.T) {
	const day = `{"e":"kline","E":1700006400001,"s":"BTCUSDT","k":{"t":1699977600000,"T":1700063999999,"s":"BTCUSDT","i":"1d","f":100,"L":200,"o":"37000.00","c":"37010.50","h":"37020.00","l":"36990.00","v":"12.345","n":101,"x":false,"q":"456789.12","V":"6.1","Q":"225000.00","B":"0"}}`
	for _, c := range []struct{ frame, interval string }{
		{`{"stream":"btcusdt@kline_1d@+08:00","data":` + day + `}`, "1d+08:00"},
		{`{"stream":"btcusdt@kline_1d","data":` + day + `}`, "1d"},
		{day, "1d"}, // a raw stream names no offset
		{`{"stream":"btcusdt_perpetual@continuousKline_1d@+08:00","data":{"e":"continuous_kline","E":1700006400001,"ps":"BTCUSDT","ct":"PERPETUAL","k":{"t":1699977600000,"T":1700063999999,"i":"1d","f":100,"L":200,"o":"37000.00","c":"37010.50","h":"37020.00","l":"36990.00","v":"12.345","n":101,"x":false,"q":"456789.12","V":"6.1","Q":"225000.00","B":"0"}}}`, "1d+08:00"},
	} {
		_, got := feedFrames(t, NewBinance, nil, []string{c.frame})
		require.Len(t, got, 1, c.frame)
		assert.Equal(t, schema.EventKlineLive, got[0].Type)
		assert.Equal(t, c.interval, got[0].Kline.Interval, c.frame)
	}
	// The next frame of the same parser, a UTC stream, is named UTC:
	// the mark is the frame's, not the parser's.
	_, got := feedFrames(t, NewBinance, nil, []string{`{"stream":"btcusdt@kline_1d@+08:00","data":` + day + `}`, `{"stream":"btcusdt@kline_1d","data":` + day + `}`})
	require.Len(t, got, 2)
	assert.Equal(t, "1d+08:00", got[0].Kline.Interval)
	assert.Equal(t, "1d", got[1].Kline.Interval)

	syms := NewSymbols(BinanceSymbolRules())
	s, err := BinanceStream(syms, "BTC-USDT", "kline_1d@+08:00")
	require.NoError(t, err)
	assert.Equal(t, "btcusdt@kline_1d@+08:00", s)
}
