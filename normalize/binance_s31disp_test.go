package normalize

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS31BinanceTickerKinds: Binance's 24hrMiniTicker carries fewer
// fields than its 24hrTicker (Binance WebSocket Streams "Individual Symbol
// Mini Ticker Stream" beside "Individual Symbol Ticker Streams"); both
// are EventTicker. The dispatcher keeps them apart in its latest-wins
// queues by whether the ticker states its window (Ticker.WindowClose,
// "C"), which the full ticker always does (a 24hrTicker without "C" is
// refused) and the mini one never: what this test holds the parser to.
func TestS31BinanceTickerKinds(t *testing.T) {
	for _, c := range []struct {
		name, msg string
		windowed  bool
	}{
		{"mini", `{"e":"24hrMiniTicker","E":1672515782136,"s":"BNBBTC","c":"0.0025","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"}`, false},
		{"mini, combined stream", `{"stream":"bnbbtc@miniTicker","data":{"e":"24hrMiniTicker","E":1672515782136,"s":"BNBBTC","c":"0.0025","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"}}`, false},
		{"full", `{"e":"24hrTicker","E":1672515782136,"s":"BNBBTC","p":"0.0015","P":"250.00","w":"0.0018","x":"0.0009","c":"0.0025","Q":"10","b":"0.0024","B":"10","a":"0.0026","A":"100","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,"F":0,"L":18150,"n":18151}`, true},
		{"full, USDⓈ-M", `{"e":"24hrTicker","E":123456789,"s":"BTCUSDT","p":"0.0015","P":"250.00","w":"0.0018","c":"0.0025","Q":"10","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,"F":0,"L":18150,"n":18151}`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, _, err := handleOne(t, "binance", c.msg)
			require.NoError(t, err)
			require.Len(t, sink.got, 1)
			require.Equal(t, schema.EventTicker, sink.got[0].Type)
			require.Equal(t, c.windowed, sink.got[0].Ticker.WindowClose != 0)
		})
	}
}
