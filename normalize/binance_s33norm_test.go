package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// USDⓈ-M continuous contract klines (Binance USDⓈ-M Futures "Continuous
// Contract Kline/Candlestick Streams": <pair>_<contractType>@continuousKline_<interval>,
// "e":"continuous_kline", the pair in "ps", the contract type in "ct")
// were counted Unknown. A PERPETUAL's is the pair's perpetual's kline
// (BTC-USDT, as @kline_1m of BTCUSDT); a quarter's follows whichever
// delivery contract is current, whose symbol (BTCUSDT_250328) the message
// does not name: a *ParseError naming "ct", never an event under a symbol
// it is not (the stream name's "btcusdt_current_quarter" is no contract).
func TestS33BinanceContinuousKline(t *testing.T) {
	const perp = `{"e":"continuous_kline","E":1607443058651,"ps":"BTCUSDT","ct":"PERPETUAL","k":{"t":1607443020000,"T":1607443079999,"i":"1m","f":116467658886,"L":116468012423,"o":"18787.00","c":"18804.04","h":"18804.04","l":"18786.54","v":"197.664","n":543,"x":false,"q":"3715253.19494","V":"184.769","Q":"3472925.84746","B":"0"}}`
	for _, frame := range []string{perp, `{"stream":"btcusdt_perpetual@continuousKline_1m","data":` + perp + `}`} {
		p, got := feedFrames(t, NewBinance, nil, []string{frame})
		require.Len(t, got, 1)
		ev := got[0]
		require.Equal(t, schema.EventKlineLive, ev.Type)
		assert.Equal(t, "BTC-USDT", ev.Symbol)
		assert.Equal(t, "1m", ev.Kline.Interval)
		assert.Equal(t, int64(1607443020000)*1e6, ev.Kline.OpenTime)
		assert.Equal(t, int64(1607443079999)*1e6, ev.Kline.CloseTime)
		requireDigits(t, "18787.00", ev.Kline.Open)
		requireDigits(t, "18804.04", ev.Kline.Close)
		requireDigits(t, "18804.04", ev.Kline.High)
		requireDigits(t, "18786.54", ev.Kline.Low)
		requireDigits(t, "197.664", ev.Kline.Volume)
		requireDigits(t, "3715253.19494", ev.Kline.QuoteVolume)
		assert.Equal(t, uint64(543), ev.Kline.TradeCount)
		assert.Equal(t, int64(1607443058651)*1e6, ev.ExchangeTS)
		assert.Zero(t, p.Stats().Unknown)
	}
	closed := `{"stream":"btcusdt_perpetual@continuousKline_1m","data":` + strings.Replace(perp, `"x":false`, `"x":true`, 1) + `}`
	_, got := feedFrames(t, NewBinance, nil, []string{closed})
	require.Len(t, got, 1)
	assert.Equal(t, schema.EventKlineClosed, got[0].Type)

	quarter := `{"stream":"btcusdt_current_quarter@continuousKline_1m","data":` + strings.Replace(perp, "PERPETUAL", "CURRENT_QUARTER", 1) + `}`
	sink, events, err := handleOne(t, "binance", quarter)
	requireParseError(t, err, "ct", ErrUnknownSymbol)
	assert.Empty(t, sink.got)
	assert.Zero(t, events.Stats().InUse)
	noCT := strings.Replace(perp, `"ct":"PERPETUAL",`, "", 1)
	_, _, err = handleOne(t, "binance", noCT)
	requireParseError(t, err, "ct", ErrMissingField)
}

// Binance spot average price (Binance Spot "WebSocket Streams", "Average
// Price": <symbol>@avgPrice, "e":"avgPrice", the average "w" over the
// interval "i") carries nothing the schema holds (no average-price field):
// a known message skipped on purpose, counted Ignored, never Unknown.
func TestS33BinanceAvgPriceIgnored(t *testing.T) {
	const avg = `{"e":"avgPrice","E":1693907033000,"s":"BTCUSDT","i":"5m","w":"25776.86000000","T":1693907032213}`
	for _, frame := range []string{avg, `{"stream":"btcusdt@avgPrice","data":` + avg + `}`} {
		p, got := feedFrames(t, NewBinance, nil, []string{frame})
		assert.Empty(t, got)
		st := p.Stats()
		assert.Equal(t, uint64(1), st.Ignored)
		assert.Zero(t, st.Unknown)
		assert.Zero(t, st.Errors)
	}
}

func FuzzS33BinanceContinuousKline(f *testing.F) { fuzzKind(f, bnContinuousKline) }
