package normalize

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every member a parser publishes that the venue's docs show in every
// message of its kind is required: absent, the event carried a zero in its
// place (a 24 h high of 0, a kline of 0 trades, a liquidation with no
// average price, a trade with no side) that a consumer cannot tell from
// the venue's own 0. The docs, per case:
//   - Binance "WebSocket Streams" (spot), USDⓈ-M and COIN-M "Websocket
//     Market Streams": Trade and Aggregate Trade "T", "m"; Kline "n", "q";
//     Individual Symbol Ticker "p", "P", "Q", "O", "C", "n" (all three
//     markets); Liquidation Order "ap", "z", "X", "T".
//   - OKX API v5 "Tickers channel": every member in every push ("" when
//     there is none).
//   - Bybit v5 "Ticker": a snapshot is the whole ticker, the 24 h high, low,
//     volume and turnover included (spot, derivatives and options).
//   - Kraken WebSocket v2 "ticker": bid_qty, ask_qty, volume, low, high,
//     change, change_pct in every message.
//   - OKX API v5 "Order book channel": ts in every push of every book
//     channel; Coinbase Exchange "Full channel": time in every match (the
//     trade was dated 1970 without them: neither envelope has a time).
//   - Coinbase Advanced Trade "Ticker": volume_24_h, low_24_h, high_24_h,
//     price_percent_chg_24_h, best_bid_quantity, best_ask_quantity.
func TestS28PublishedMembersRequired(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("testdata/" + name)
		require.NoError(t, err)
		return strings.TrimSpace(string(b))
	}
	cases := []struct {
		venue, file string
		cuts        []string // members as sent, each removed alone: the field named is the key
	}{
		{"binance", "binance/aggTrade.json", []string{`,"T":1700000000220`, `,"m":true`}},
		{"binance", "binance/combined_trade.json", []string{`,"T":1700000000320`, `,"m":true`}},
		{"binance", "binance/kline_closed.json", []string{`,"n":101`, `,"q":"456789.12"`}},
		{"binance", "binance/ticker.json", []string{`,"p":"-0.0015"`, `,"P":"-0.250"`, `,"Q":"10"`, `,"O":1699913600723`, `,"C":1700000000723`, `,"n":18151`}},
		{"binance", "binance/forceOrder.json", []string{`,"ap":"2099.50"`, `,"z":"0.500"`, `,"X":"PARTIALLY_FILLED"`, `,"T":1700000001120`}},
		{"okx", "okx/tickers.json", []string{`,"lastSz":"0.0002"`, `,"askSz":"1.55896972"`, `,"bidSz":"0.23393"`, `,"open24h":"29700.4"`, `,"high24h":"31073"`, `,"low24h":"28020.3"`, `,"volCcy24h":"525802090.62716611"`, `,"vol24h":"17602.13085371"`}},
		{"bybit", "bybit/tickers_snapshot.json", []string{`,"highPrice24h":"62752.90"`, `,"lowPrice24h":"61000.10"`, `,"volume24h":"98430.1050"`, `,"turnover24h":"6073739017.8331"`}},
		{"kraken", "kraken/ticker.json", []string{`,"bid_qty":12.31628629`, `,"ask_qty":0.31232000`, `,"volume":4182.59447976`, `,"low":61325.4`, `,"high":66450.0`, `,"change":-4213.8`, `,"change_pct":-6.84`}},
		{"coinbase", "coinbase/match.json", []string{`,"time":"2021-04-17T16:43:37.089723Z"`}},
		{"okx", "okx/books5.json", []string{`,"ts":"1597026383085"`}},
		{"okx", "okx/bbo_tbt.json", []string{`,"ts":"1597026383085"`}},
		{"coinbase", "coinbase/ticker.json", []string{`,"volume_24_h":"15328.12345678"`, `,"low_24_h":"67500.00"`, `,"high_24_h":"69200.00"`, `,"price_percent_chg_24_h":"1.85"`, `,"best_bid_quantity":"1.50000000"`, `,"best_ask_quantity":"0.50000000"`}},
	}
	for _, c := range cases {
		whole := read(c.file)
		_, _, err := handleOne(t, c.venue, whole)
		require.NoError(t, err, "%s: the whole message", c.file)
		for _, cut := range c.cuts {
			require.Contains(t, whole, cut)
			key := cut[2 : strings.Index(cut[2:], `"`)+2]
			t.Run(c.file+"/"+key, func(t *testing.T) {
				sink, _, err := handleOne(t, c.venue, strings.Replace(whole, cut, "", 1))
				requireParseError(t, err, key, ErrMissingField)
				for _, ev := range sink.got {
					assert.NotEqual(t, ev.Type.String(), "", "an event published")
				}
				assert.Empty(t, sink.got, "an event published without %q", key)
			})
		}
	}
}
