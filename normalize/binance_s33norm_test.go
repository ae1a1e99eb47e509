package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Binance spot rolling-window tickers (Binance Spot "WebSocket Streams",
// "Individual Symbol Rolling Window Statistics Streams" and "All Market
// Rolling Window Statistics Streams": <symbol>@ticker_<1h|4h|1d>,
// !ticker_<1h|4h|1d>@arr, "e":"1hTicker"…) are tickers: the 24hrTicker's
// shape without "Q", "b", "B", "a", "A". They were counted Unknown. Each
// is an EventTicker that states its window (WindowOpen "O", WindowClose
// "C"), numbered by its last trade id "L", on every stream form.
func TestS33BinanceRollingWindowTickers(t *testing.T) {
	const h1 = `{"e":"1hTicker","E":1672515782136,"s":"BNBBTC","p":"0.0015","P":"250.00","o":"0.0010","h":"0.0025","l":"0.0010","c":"0.0025","w":"0.0018","v":"10000","q":"18","O":1672512182136,"C":1672515782136,"F":0,"L":18150,"n":18151}`
	const h4 = `{"e":"4hTicker","E":1672515782136,"s":"BNBBTC","p":"0.0015","P":"250.00","o":"0.0010","h":"0.0025","l":"0.0010","c":"0.0025","w":"0.0018","v":"40000","q":"72","O":1672501382136,"C":1672515782136,"F":0,"L":18150,"n":18151}`
	const d1 = `{"e":"1dTicker","E":1672515782136,"s":"BNBBTC","p":"0.0015","P":"250.00","o":"0.0010","h":"0.0025","l":"0.0010","c":"0.0025","w":"0.0018","v":"240000","q":"432","O":1672429382136,"C":1672515782136,"F":0,"L":18150,"n":18151}`
	const hour = int64(3600e9)
	for _, c := range []struct {
		name, frame string
		windows     []int64 // WindowClose - WindowOpen of each event
	}{
		{"raw 1h", h1, []int64{hour}},
		{"combined 1h", `{"stream":"bnbbtc@ticker_1h","data":` + h1 + `}`, []int64{hour}},
		{"combined 4h", `{"stream":"bnbbtc@ticker_4h","data":` + h4 + `}`, []int64{4 * hour}},
		{"combined 1d", `{"stream":"bnbbtc@ticker_1d","data":` + d1 + `}`, []int64{24 * hour}},
		{"all market 1h", `{"stream":"!ticker_1h@arr","data":[` + h1 + `]}`, []int64{hour}},
		{"raw all market", `[` + h1 + `,` + h4 + `]`, []int64{hour, 4 * hour}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, got := feedFrames(t, NewBinance, nil, []string{c.frame})
			require.Len(t, got, len(c.windows), "events")
			for i, ev := range got {
				assert.Equal(t, c.windows[i], ev.Ticker.WindowClose-ev.Ticker.WindowOpen, "the window")
				require.Equal(t, schema.EventTicker, ev.Type)
				assert.Equal(t, "BNB-BTC", ev.Symbol)
				requireDigits(t, "0.0025", ev.Ticker.Last)
				requireDigits(t, "0.0010", ev.Ticker.Open)
				requireDigits(t, "0.0025", ev.Ticker.High)
				requireDigits(t, "0.0010", ev.Ticker.Low)
				requireDigits(t, "0.0015", ev.Ticker.PriceChange)
				requireDigits(t, "250.00", ev.Ticker.ChangePct)
				assert.Equal(t, uint64(18151), ev.Ticker.TradeCount)
				assert.Equal(t, uint64(18150), ev.SeqProvider)
				assert.Equal(t, int64(1672515782136)*1e6, ev.ExchangeTS)
				assert.Equal(t, int64(1672515782136)*1e6, ev.Ticker.WindowClose, "it states its window")
				assert.True(t, ev.Ticker.BidPrice.IsZero() && ev.Ticker.LastQty.IsZero())
			}
			st := p.Stats()
			assert.Zero(t, st.Unknown)
			assert.Zero(t, st.Errors)
		})
	}
}

func FuzzS33BinanceRollingTicker(f *testing.F) { fuzzKind(f, bnTicker1h) }
