package normalize

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Binance adds event kinds (USDⓈ-M's "markPriceUpdate" variants, new
// streams): an "e" the parser does not know got no AlignKey, so a
// connection of only such streams always rotated unaligned. One in a
// combined market stream ({"stream":"<symbol>@<type>","data":…}, Binance
// WebSocket Streams, "General WSS information") with its event time "E" is
// data sent alike on every connection: its frame is its key. Still nil: a
// raw unknown "e" (no stream name to tell it from a notice to the
// connection, as serverShutdown), a known notice wrapped, a user-data
// stream (listenKey, no '@'), one without "E". Failed before the fix: the
// first two cases were nil.
func TestS29AlignKeyUnknownBinanceEvent(t *testing.T) {
	events := pool.New("align", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	p := NewBinance(events, SinkFunc(nil), nil)
	for _, tt := range []struct {
		name, frame string
		key         bool
	}{
		{"unknown event in a market stream", `{"stream":"btcusdt@newThing","data":{"e":"newThing","E":1700000000123,"s":"BTCUSDT","x":"1"}}`, true},
		{"E first, indented", "{\n \"stream\": \"btcusdt@newThing\",\n \"data\": {\"E\": 1700000000123, \"e\": \"newThing\"}\n}", true},
		{"raw unknown event", `{"e":"newThing","E":1700000000123,"s":"BTCUSDT"}`, false},
		{"wrapped serverShutdown", `{"stream":"btcusdt@bookTicker","data":{"e":"serverShutdown","E":1}}`, false},
		{"wrapped listenKeyExpired", `{"stream":"btcusdt@trade","data":{"e":"listenKeyExpired","E":1,"listenKey":"x"}}`, false},
		{"user-data stream", `{"stream":"pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1","data":{"e":"newThing","E":1}}`, false},
		{"no event time", `{"stream":"btcusdt@newThing","data":{"e":"newThing","s":"BTCUSDT"}}`, false},
		{"e not a string", `{"stream":"btcusdt@newThing","data":{"e":1,"E":1}}`, false},
		{"data not an object", `{"stream":"btcusdt@newThing","data":"x"}`, false},
		{"no stream name", `{"stream":"","data":{"e":"newThing","E":1}}`, false},
		{"stream name starting with @", `{"stream":"@newThing","data":{"e":"newThing","E":1}}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k := p.AlignKey([]byte(tt.frame))
			if !tt.key {
				require.Nil(t, k)
				return
			}
			require.Equal(t, tt.frame, string(k))
		})
	}
}
