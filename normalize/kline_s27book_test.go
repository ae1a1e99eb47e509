package normalize

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// A kline is its open, high, low and close, its volume, its interval and
// when it opened: every venue sends them in every kline message (Bybit v5
// "Kline": start, end, interval, open, close, high, low, volume, confirm;
// Kraken v2 "OHLC": open, high, low, close, volume, interval_begin,
// interval; Coinbase Advanced Trade "Candles": start, open, high, low,
// close, volume). Binance's klines already refuse one without them. On
// Bybit, Kraken and Coinbase a kline whose member was absent or null was published with
// a zero in its place — an open of 0, a candle starting in 1970 — which
// a strategy cannot tell from the market's. It is a *ParseError
// (ErrMissingField) naming the member.
func TestS27KlineRequiredMembers(t *testing.T) {
	const bybit = `{"topic":"kline.5.BTCUSDT","data":[{"start":1672324800000,"end":1672325099999,"interval":"5","open":"16649.5","close":"16677","high":"16677","low":"16608","volume":"2.081","turnover":"34666.4005","confirm":false,"timestamp":1672324988882}],"ts":1672324988882,"type":"snapshot"}`
	const kraken = `{"channel":"ohlc","type":"update","timestamp":"2024-05-17T11:21:16.318303322Z","data":[{"symbol":"ETH/USD","open":3027.80,"high":3027.80,"low":3026.13,"close":3026.13,"trades":9,"volume":13.31603062,"vwap":3027.01,"interval_begin":"2024-05-17T11:12:00.000000000Z","interval":1,"timestamp":"2024-05-17T11:13:00.000000Z"}]}`
	const coinbase = `{"channel":"candles","client_id":"","timestamp":"2023-06-09T20:19:35.39625135Z","sequence_num":0,"events":[{"type":"snapshot","candles":[{"start":"1688998200","high":"1867.72","low":"1865.63","open":"1867.38","close":"1866.81","volume":"0.20269406","product_id":"ETH-USD"}]}]}`
	for _, c := range []struct {
		venue, msg string
		keys       []string
	}{
		{"bybit", bybit, []string{"start", "end", "interval", "open", "close", "high", "low", "volume", "confirm"}},
		{"kraken", kraken, []string{"open", "high", "low", "close", "volume", "interval_begin", "interval"}},
		{"coinbase", coinbase, []string{"start", "open", "high", "low", "close", "volume"}},
	} {
		sink, _, err := handleOne(t, c.venue, c.msg)
		if !assert.NoError(t, err) || !assert.Len(t, sink.got, 1) {
			continue
		}
		for _, key := range c.keys {
			for _, form := range []string{"absent", "null"} {
				t.Run(fmt.Sprintf("%s %s %s", c.venue, key, form), func(t *testing.T) {
					msg := withMember(t, c.msg, key, form)
					sink, events, err := handleOne(t, c.venue, msg)
					requireParseError(t, err, key, ErrMissingField)
					for _, ev := range sink.got {
						assert.NotContains(t, []schema.EventType{schema.EventKlineLive, schema.EventKlineClosed}, ev.Type, "a kline without %s was published", key)
					}
					assert.Zero(t, events.Stats().InUse)
				})
			}
		}
	}
}

// withMember rewrites the first member key of msg: removed ("absent") or
// sent as null.
func withMember(t *testing.T, msg, key, form string) string {
	t.Helper()
	i := strings.Index(msg, `"`+key+`":`)
	if i < 0 {
		t.Fatalf("no %s in %s", key, msg)
	}
	j := i + len(key) + 3
	depth, end := 0, j
	for ; end < len(msg); end++ {
		c := msg[end]
		if c == '"' {
			end = j + strings.IndexByte(msg[j+1:], '"') + 1
			continue
		}
		if c == '[' || c == '{' {
			depth++
		}
		if (c == ',' || c == '}' || c == ']') && depth == 0 {
			break
		}
		if c == ']' || c == '}' {
			depth--
		}
	}
	if form == "null" {
		return msg[:j] + "null" + msg[end:]
	}
	if msg[end] == ',' {
		return msg[:i] + msg[end+1:]
	}
	return strings.TrimSuffix(msg[:i], ",") + msg[end:]
}
