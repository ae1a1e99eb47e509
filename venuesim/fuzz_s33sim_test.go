package venuesim

import (
	"testing"
)

// Stream names as a client sends them (SUBSCRIBE params, a URL's names):
// nothing panics; a name taken as a kline stream names a candle that
// holds any time (open ≤ t ≤ close); and listening to a name and letting
// it go leaves the market as it was, whatever the name.
func FuzzS33simStreamName(f *testing.F) {
	for _, seed := range []string{
		"btcusdt@kline_1m", "btcusdt@kline_1M@+08:00", "btcusdt@kline_3d", "btcusdt@kline_1w@+08:00",
		"btcusdt@depth5", "btcusdt@depth20@100ms", "btcusdt@depth7", "btcusdt@kline_", "@kline_1m",
		"btcusdt@kline_1m@+08:00@+08:00", "xrpxrp@kline_1s", "btcusdt@trade", "", "@", "btcusdt@depth5@100ms@100ms", "btcusdt@ticker", "btcusdt@miniTicker", "btcusdt@ticker_1h",
	} {
		f.Add(seed, int64(1_764_633_600_000))
	}
	f.Add("btcusdt@kline_1M", int64(-1))
	m := newMarket([]string{"BTCUSDT"}, 20, 1)
	s := m.symbols[0]
	f.Fuzz(func(t *testing.T, name string, ms int64) {
		_ = validStream(name)
		const bound = int64(1) << 50 // ±35,000 years of Unix ms
		ms %= bound
		if _, iv, utc8, ok := parseKlineStream(name); ok {
			start, end := klineBounds(iv, utc8, ms)
			if start > ms || ms > end {
				t.Fatalf("%s at %d: candle %d..%d does not hold it", name, ms, start, end)
			}
		}
		m.listen(name, true)
		m.listen(name, false)
		if len(s.series) != 0 || s.partial != [len(partialDepths)]int{} || s.tickerRefs != [len(tickerKinds)]int{} {
			t.Fatalf("%q: listened and let go, the market keeps %d series, partial %v, tickers %v", name, len(s.series), s.partial, s.tickerRefs)
		}
	})
}
