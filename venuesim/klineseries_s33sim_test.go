package venuesim

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/internal/allocs"
)

// The calendar boundaries: 1d at the zone's midnight, 1w on its Monday
// 00:00, 1M on its 1st 00:00 ("Kline/Candlestick Streams with timezone
// offset": "the 1d klines will open at the beginning of the UTC+8 day";
// the times stay Unix ms), sub-day intervals on the zone's clock (6h and
// 12h differ in UTC+8; 1h … 4h and 8h do not), close time the next open
// - 1 ms. Expected values are written out as dates.
func TestS33simKlineBounds(t *testing.T) {
	utc8 := time.FixedZone("UTC+8", 8*3600)
	at := func(y int, mo time.Month, d, h, mi int, loc *time.Location) int64 {
		return time.Date(y, mo, d, h, mi, 0, 0, loc).UnixMilli()
	}
	wed := at(2026, 12, 2, 3, 30, time.UTC) // a Wednesday, 11:30 in UTC+8
	cases := []struct {
		name       string
		interval   string
		utc8       bool
		ms         int64
		start, end int64
	}{
		{"1d UTC", "1d", false, wed, at(2026, 12, 2, 0, 0, time.UTC), at(2026, 12, 3, 0, 0, time.UTC) - 1},
		{"1d UTC+8", "1d", true, wed, at(2026, 12, 2, 0, 0, utc8), at(2026, 12, 3, 0, 0, utc8) - 1},
		{"1w UTC", "1w", false, wed, at(2026, 11, 30, 0, 0, time.UTC), at(2026, 12, 7, 0, 0, time.UTC) - 1},
		{"1w UTC+8", "1w", true, wed, at(2026, 11, 30, 0, 0, utc8), at(2026, 12, 7, 0, 0, utc8) - 1},
		// Sunday 17:00 UTC is Monday 01:00 in UTC+8: a new week there only.
		{"1w Sunday UTC", "1w", false, at(2026, 11, 29, 17, 0, time.UTC), at(2026, 11, 23, 0, 0, time.UTC), at(2026, 11, 30, 0, 0, time.UTC) - 1},
		{"1w Sunday UTC+8", "1w", true, at(2026, 11, 29, 17, 0, time.UTC), at(2026, 11, 30, 0, 0, utc8), at(2026, 12, 7, 0, 0, utc8) - 1},
		{"1w Monday 00:00", "1w", false, at(2026, 11, 30, 0, 0, time.UTC), at(2026, 11, 30, 0, 0, time.UTC), at(2026, 12, 7, 0, 0, time.UTC) - 1},
		{"1M UTC", "1M", false, at(2026, 11, 30, 20, 0, time.UTC), at(2026, 11, 1, 0, 0, time.UTC), at(2026, 12, 1, 0, 0, time.UTC) - 1},
		{"1M UTC+8", "1M", true, at(2026, 11, 30, 20, 0, time.UTC), at(2026, 12, 1, 0, 0, utc8), at(2027, 1, 1, 0, 0, utc8) - 1},
		{"1M leap February", "1M", false, at(2028, 2, 29, 23, 59, time.UTC), at(2028, 2, 1, 0, 0, time.UTC), at(2028, 3, 1, 0, 0, time.UTC) - 1},
		{"1M December", "1M", false, at(2026, 12, 31, 23, 59, time.UTC), at(2026, 12, 1, 0, 0, time.UTC), at(2027, 1, 1, 0, 0, time.UTC) - 1},
		{"6h UTC+8", "6h", true, wed, at(2026, 12, 2, 6, 0, utc8), at(2026, 12, 2, 12, 0, utc8) - 1},
		{"12h UTC+8", "12h", true, wed, at(2026, 12, 2, 0, 0, utc8), at(2026, 12, 2, 12, 0, utc8) - 1},
		{"12h UTC", "12h", false, wed, at(2026, 12, 2, 0, 0, time.UTC), at(2026, 12, 2, 12, 0, time.UTC) - 1},
		{"4h UTC+8", "4h", true, wed, at(2026, 12, 2, 0, 0, time.UTC), at(2026, 12, 2, 4, 0, time.UTC) - 1},
		{"15m", "15m", false, wed + 1234, at(2026, 12, 2, 3, 30, time.UTC), at(2026, 12, 2, 3, 45, time.UTC) - 1},
		{"1s", "1s", false, wed + 1234, wed + 1000, wed + 1999},
		// 3d: every third day from the Unix epoch's (2026-11-30 is day
		// 20787, a multiple of 3).
		{"3d UTC", "3d", false, wed, at(2026, 11, 30, 0, 0, time.UTC), at(2026, 12, 3, 0, 0, time.UTC) - 1},
		{"before the epoch", "1w", false, at(1969, 12, 31, 12, 0, time.UTC), at(1969, 12, 29, 0, 0, time.UTC), at(1970, 1, 5, 0, 0, time.UTC) - 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sym, iv, _, ok := parseKlineStream("btcusdt@kline_" + tc.interval)
			require.True(t, ok)
			require.Equal(t, "btcusdt", sym)
			start, end := klineBounds(iv, tc.utc8, tc.ms)
			assert.Equal(t, time.UnixMilli(tc.start).UTC(), time.UnixMilli(start).UTC(), "open")
			assert.Equal(t, time.UnixMilli(tc.end).UTC(), time.UnixMilli(end).UTC(), "close")
		})
	}
}

// s33simSeries is what the market keeps of sym's kline series: stream →
// connections listening.
func s33simSeries(v *Venue, sym string) map[string]int {
	m := v.mkt
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for _, ks := range m.byLower[sym].series {
		out[ks.stream] = ks.refs
	}
	for i, refs := range m.byLower[sym].partial {
		if refs != 0 {
			out[partialDepths[i].name] = refs
		}
	}
	return out
}

// A trade costs what the symbol's subscribed kline streams cost, not what
// every interval it could have would: the market keeps a candle only of
// a stream somebody listens to (and formats a partial book only for a
// partial depth stream somebody listens to), counted per connection (a URL's streams
// and a SUBSCRIBE's, a name given twice once), let go by UNSUBSCRIBE and
// by the connection's end; a symbol the venue does not list keeps nothing.
func TestS33simKlineSeriesFollowSubscriptions(t *testing.T) {
	v := Start(&Options{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Rate: 200, PingInterval: -1})
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dial := func(url string) *websocket.Conn {
		c, _, err := websocket.Dial(ctx, url, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.CloseNow() })
		go func() { // read the answers and data; the test waits on the market
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		}()
		return c
	}
	assert.Empty(t, s33simSeries(v, "btcusdt"), "no candle kept before anybody listens")
	a := dial(v.StreamURL())
	require.NoError(t, a.Write(ctx, websocket.MessageText, []byte(
		`{"method":"SUBSCRIBE","params":["btcusdt@kline_5m","btcusdt@kline_5m@+08:00","btcusdt@kline_5m","xrpxrp@kline_1m","btcusdt@depth5@100ms"],"id":1}`)))
	b := dial(v.StreamURL("btcusdt@kline_5m", "btcusdt@trade", "btcusdt@depth5"))
	want := map[string]int{"btcusdt@kline_5m": 2, "btcusdt@kline_5m@+08:00": 1, "depth5": 2}
	require.Eventually(t, func() bool { return assert.ObjectsAreEqual(want, s33simSeries(v, "btcusdt")) },
		time.Minute, time.Millisecond, "two connections on kline_5m, one on its UTC+8 stream")
	assert.Empty(t, s33simSeries(v, "ethusdt"))
	require.NoError(t, b.Close(websocket.StatusNormalClosure, ""))
	want = map[string]int{"btcusdt@kline_5m": 1, "btcusdt@kline_5m@+08:00": 1, "depth5": 1}
	require.Eventually(t, func() bool { return assert.ObjectsAreEqual(want, s33simSeries(v, "btcusdt")) },
		time.Minute, time.Millisecond, "the closed connection let go of kline_5m")
	require.NoError(t, a.Write(ctx, websocket.MessageText, []byte(
		`{"method":"UNSUBSCRIBE","params":["btcusdt@kline_5m","btcusdt@kline_5m@+08:00","btcusdt@kline_5m","btcusdt@depth5@100ms"],"id":2}`)))
	require.Eventually(t, func() bool { return len(s33simSeries(v, "btcusdt")) == 0 },
		time.Minute, time.Millisecond, "UNSUBSCRIBE let go of them all")
}

// A trade's kline work allocates nothing, with no series and with some.
func TestS33simKlineTradeZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not with -race")
	}
	m := newMarket([]string{"BTCUSDT"}, 20, 1)
	s := m.symbols[0]
	ms := int64(1_764_000_000_000)
	assert.Zero(t, allocs.PerRun(100, func() { ms += 997; m.klineTrade(s, 100*one, one, ms) }))
	m.listen("btcusdt@kline_1m", true)
	m.listen("btcusdt@kline_1M@+08:00", true)
	assert.Zero(t, allocs.PerRun(100, func() { ms += 997; m.klineTrade(s, 100*one, one, ms) }))
	require.Len(t, s.series, 2)
}
