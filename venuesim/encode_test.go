package venuesim

import (
	"testing"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/internal/allocs"
)

// The generator's payloads are encoded by goccy into reused buffers without
// allocating, and decode back to what was encoded.
func TestWireZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not with -race")
	}
	m := newMarket([]string{"BTCUSDT"}, 20, 1)
	s := m.symbols[0]
	var w wire
	buf := make([]byte, 0, 4096)
	bids, asks, first, last := m.moveBook(s, false, false)
	payload := []byte(`{"e":"trade"}`)
	k := &kline{start: 1000, open: 1, close: 2, high: 3, low: 1, volume: 5, quoteVol: 7}
	cases := map[string]func() []byte{
		"trade":       func() []byte { return w.appendTrade(buf[:0], s, 1, 100*one, one/2, true) },
		"aggTrade":    func() []byte { return w.appendAggTrade(buf[:0], s, 1, 100*one, one/2, false, s.tradeID, s.tradeID) },
		"bookTicker":  func() []byte { return w.appendBookTicker(buf[:0], s) },
		"depthUpdate": func() []byte { return w.appendDepthUpdate(buf[:0], s, 1, bids, asks, first, last) },
		"kline":       func() []byte { return w.appendKline(buf[:0], s, 1, "1m", k, false) },
		"combined":    func() []byte { return w.appendCombined(buf[:0], "btcusdt@trade", payload) },
	}
	for name, enc := range cases {
		t.Run(name, func(t *testing.T) {
			out := enc()
			require.True(t, json.Unmarshal(out, new(any)) == nil, "%s", out)
			require.Zero(t, allocs.PerRun(100, func() { _ = enc() }))
		})
	}
	require.Equal(t, `{"e":"trade","E":1,"s":"BTCUSDT","t":`, string(w.appendTrade(nil, s, 1, 100*one, one/2, true))[:37])
}
