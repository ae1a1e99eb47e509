package venuesim_test

import (
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// FaultDepthGap reaches every depth subscriber, whichever symbol it
// follows, and Inject says how many it reached. Before, the gap went into
// the next diff made, of one symbol picked at random: with BTCUSDT and
// ETHUSDT simulated, the client of the other symbol never saw a gap while
// Inject reported 1.
func TestS29DepthGapReachesEverySymbol(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Rate: 500, PingInterval: -1})
	defer v.Close()
	subs := []struct {
		name string
		c    *websocket.Conn
	}{
		{"btc", dial(t, v.StreamURL("btcusdt@depth"))},
		{"eth", dial(t, v.StreamURL("ethusdt@depth@100ms"))},
	}
	trades := dial(t, v.StreamURL("btcusdt@trade")) // no depth stream: not reached
	read(t, trades)
	last := make([]uint64, len(subs))
	for i, s := range subs {
		p, ok := s29Decode(read(t, s.c))
		require.True(t, ok)
		last[i] = p.Last
	}
	assert.Equal(t, 2, v.Inject(venuesim.FaultDepthGap), "the two depth subscribers")
	for i, s := range subs {
		lastU := last[i]
		for n := 0; ; n++ {
			require.Less(t, n, 5000, "%s: no gap", s.name)
			p, ok := s29Decode(read(t, s.c))
			require.True(t, ok)
			if p.First != lastU+1 {
				assert.Greater(t, p.First, lastU+1, "%s: update ids skipped", s.name)
				break
			}
			lastU = p.Last
		}
	}
}
