package venuesim_test

import (
	"testing"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// A symbol named twice in Options.Symbols (a command line's
// "BTCUSDT,BTCUSDT", or "BTCUSDT,btcusdt") is one market: it made two,
// each with its own book and sequence, both sent on the same streams, so
// a depth stream's U/u broke at every other message and its trade ids
// went back and forth — a "gap" of the simulator's own making.
func TestS25SymbolNamedTwiceIsOneMarket(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT", "btcusdt"}, Rate: 2000, PingInterval: -1})
	defer v.Close()
	assert.Equal(t, []string{"BTCUSDT"}, v.Symbols())
	// Diffs every 100 ms: 15, each of which two markets on one stream
	// would break the chain of (60 took 6 s; s38sim).
	c := dial(t, v.StreamURL("btcusdt@depth@100ms"))
	var last float64
	for i := range 15 {
		var m map[string]any
		require.NoError(t, json.Unmarshal(read(t, c), &m))
		if i > 0 {
			require.Equal(t, last+1, m["U"], "diff %d: U follows the previous u", i)
		}
		last = m["u"].(float64)
	}
}
