package normalize

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Kraken tickers carry a volume-weighted average price: v2 "vwap"
// ("24-hour volume weighted average price", Kraken WebSocket v2
// "Ticker (Level 1)"), v1 "p" ([today, last 24 hours], Kraken WebSocket v1
// "Ticker (Level 1)"). Both were dropped: Ticker.WeightedAvgPrice stayed
// zero. The v1 value is the last 24 hours' (index 1), as v1's volume, low,
// high and open are.
func TestS34rvKrakenTickerVWAP(t *testing.T) {
	v2, err := os.ReadFile("testdata/kraken/ticker.json")
	require.NoError(t, err)
	for _, c := range []struct {
		name, frame, vwap, volume string
	}{
		{"v2", string(v2), "64223.4", "4182.59447976"},
		{"v1", s34rvKrakenV1Ticker, "13.734728", "72035.05488104"},
		{"v2 quiet pair", `{"channel":"ticker","type":"snapshot","data":[{"symbol":"BTC/USD","bid":1,"bid_qty":1,"ask":2,"ask_qty":1,"volume":0,"vwap":0,"low":0,"high":0,"change":0,"change_pct":0}]}`, "0", "0"},
		{"v2 without vwap", `{"channel":"ticker","type":"snapshot","data":[{"symbol":"BTC/USD","bid":1,"bid_qty":1,"ask":2,"ask_qty":1,"volume":3,"low":0,"high":0,"change":0,"change_pct":0}]}`, "0", "3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, got := feedFrames(t, NewKraken, nil, []string{c.frame})
			require.Zero(t, p.Stats().Errors)
			require.Len(t, got, 1)
			require.Equal(t, schema.EventTicker, got[0].Type)
			x := got[0].Ticker
			requireDigits(t, c.vwap, x.WeightedAvgPrice)
			requireDigits(t, c.volume, x.Volume)
		})
	}
	// A negative average price is bad input, as a negative volume is.
	p, got := feedFrames(t, NewKraken, nil, []string{`{"channel":"ticker","type":"snapshot","data":[{"symbol":"BTC/USD","bid":1,"bid_qty":1,"ask":2,"ask_qty":1,"volume":3,"vwap":-1,"low":0,"high":0,"change":0,"change_pct":0}]}`})
	assert.Empty(t, got)
	assert.Equal(t, uint64(1), p.Stats().Errors)
}

// s34rvKrakenV1Ticker is a v1 ticker built after the page's layout (each
// field [today, last 24 hours]; a and b price, whole-lot volume, lot
// volume), today's values apart from the last 24 hours'.
const s34rvKrakenV1Ticker = `[1668,{"a":["13.253900",35,"35.72892241"],"b":["13.232900",185,"185.18432037"],"c":["13.253900","3.71672000"],"v":["26560.85364463","72035.05488104"],"p":["13.529003","13.734728"],"t":[640,1353],"l":["13.021800","13.021800"],"h":["13.942000","14.211200"],"o":["13.804000","13.428300"]},"ticker","WAVES/EUR"]`

// Reading the average price costs no allocation per frame.
func TestS34rvKrakenTickerVWAPAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	v2, err := os.ReadFile("testdata/kraken/ticker.json")
	require.NoError(t, err)
	for name, data := range map[string][]byte{"v2": v2, "v1": []byte(s34rvKrakenV1Ticker)} {
		events := schema.NewPools(nil).Events
		p := NewKraken(events, &putSink{events: events}, nil)
		ctx := context.Background()
		for range 4 {
			require.NoError(t, p.HandleBytes(ctx, data, 1))
		}
		assert.Zero(t, testing.AllocsPerRun(100, func() { _ = p.HandleBytes(ctx, data, 1) }), name)
	}
}
