package normalize

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A Bybit derivatives ticker's subscription snapshot has no AlignKey (it
// comes once, then deltas: keyed, every healthy rotation reported a
// dropped frame — wsclient TestS30BybitLinearTickersRotationNoDropAlarm);
// spot tickers, a snapshot on every push, keep theirs, as do the deltas.
func TestS30rvnormBybitTickerSnapshotKey(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "venues", name))
		require.NoError(t, err)
		return b
	}
	linear := read("bybit_v5_tickers_linear_snapshot.json")
	require.Nil(t, bybitAlignKey(linear), "a linear ticker's subscription snapshot")
	inverse := strings.Replace(string(linear), "BTCUSDT", "BTCUSD", 2)
	require.Nil(t, bybitAlignKey([]byte(inverse)), "an inverse ticker's subscription snapshot")
	for _, name := range []string{"bybit_v5_tickers_linear_delta.json", "bybit_v5_tickers_spot.json", "bybit_v5_publicTrade.json"} {
		b := read(name)
		require.Equal(t, b, bybitAlignKey(b), name)
	}
	option := `{"id":"t","topic":"tickers.BTC-6JAN23-17500-C","ts":1672917511074,"data":{"symbol":"BTC-6JAN23-17500-C","bidPrice":"0","bidSize":"0","askPrice":"10","askSize":"5.1","lastPrice":"0","highPrice24h":"25","lowPrice24h":"5","markPrice":"7.86976724","indexPrice":"16823.73","markPriceIv":"0.4896","underlyingPrice":"16815.1","openInterest":"49.85","turnover24h":"446802.8473","volume24h":"26.55","totalVolume":"86","totalTurnover":"1437431","delta":"0.047831","gamma":"0.00021453","vega":"0.81351067","theta":"-19.9115368","predictedDeliveryPrice":"0","change24h":"-0.33333334"},"type":"snapshot"}`
	require.Equal(t, []byte(option), bybitAlignKey([]byte(option)), "option tickers are snapshots on every push: keyed")
}
