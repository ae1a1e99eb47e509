package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Channels of the same kind as s34norm's (documented, carrying nothing the
// schema holds) that were still counted Unknown, so a host's "unknown
// message" alarm rang on every push of a channel it subscribed to:
//   - Bybit v5 "Insurance Pool" (insurance.USDT, insurance.USDC,
//     insurance.inverse) and "ADL Alert" (adlAlert.{coin});
//   - OKX v5 "Mark price candlesticks channel" (mark-price-candle1m …)
//     and "Index candlesticks channel" (index-candle30m …): a candle of the
//     mark or index price, not of trades, which in the kline slot would
//     replace the instrument's trade candles;
//   - Coinbase Advanced Trade "Futures Balance Summary"
//     (futures_balance_summary): the FCM account's buying power and
//     margin totals, no asset balance.
//
// A channel name near one of them that no venue documents stays Unknown.
func TestS34rvKnownChannelsIgnored(t *testing.T) {
	for _, c := range []struct {
		name    string
		np      newParserFunc
		frame   string
		ignored bool
	}{
		{"bybit insurance", NewBybit, `{"topic":"insurance.USDT","type":"delta","ts":1747722930000,"data":[{"coin":"USDT","symbols":"MAGICUSDT","balance":"3.53","updatedTime":"1747722930000"}]}`, true},
		{"bybit adlAlert", NewBybit, `{"topic":"adlAlert.USDT","type":"snapshot","ts":1747722930000,"data":[{"c":"USDT","s":"BTCUSDT","b":"1","mb":"2","i_pr":"-0.1","pr":"0.1","adl_tt":"1","adl_sr":"0.2"}]}`, true},
		{"okx mark-price-candle", NewOKX, `{"arg":{"channel":"mark-price-candle1D","instId":"BTC-USD-SWAP"},"data":[["1597026383085","3.721","3.743","3.677","3.708","0"]]}`, true},
		{"okx index-candle", NewOKX, `{"arg":{"channel":"index-candle30m","instId":"BTC-USD"},"data":[["1597026383085","3811.31","3811.31","3811.31","3811.31","0"]]}`, true},
		{"okx index-candle utc", NewOKX, `{"arg":{"channel":"index-candle1Dutc","instId":"BTC-USD"},"data":[["1597026383085","3811.31","3811.31","3811.31","3811.31","0"]]}`, true},
		{"okx mark-price-candle of no bar", NewOKX, `{"arg":{"channel":"mark-price-candle7m","instId":"BTC-USD-SWAP"},"data":[["1597026383085","3.721","3.743","3.677","3.708","0"]]}`, false},
		{"coinbase futures_balance_summary", NewCoinbase, `{"channel":"futures_balance_summary","client_id":"","timestamp":"2023-02-09T20:33:57.609931463Z","sequence_num":0,"events":[{"type":"snapshot","fcm_balance_summary":{"futures_buying_power":"100.00","total_usd_balance":"200.00"}}]}`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, got := feedFrames(t, c.np, nil, []string{c.frame})
			st := p.Stats()
			assert.Empty(t, got)
			require.Zero(t, st.Errors)
			if c.ignored {
				assert.Equal(t, uint64(1), st.Ignored)
				assert.Zero(t, st.Unknown)
			} else {
				assert.Zero(t, st.Ignored)
				assert.Equal(t, uint64(1), st.Unknown)
			}
		})
	}
}
