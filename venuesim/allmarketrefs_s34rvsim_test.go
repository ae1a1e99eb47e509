package venuesim

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

// A connection that subscribed the all-market arrays and ends counts out
// of them: the venue formats them no more (market.arrayRefs back to 0).
func TestS34rvsimAllMarketRefsOnClose(t *testing.T) {
	v := Start(&Options{Symbols: []string{"BTCUSDT"}, Rate: 100, PingInterval: -1})
	t.Cleanup(v.Close)
	refs := func() [len(allMarketStreams)]int {
		v.mkt.mu.Lock()
		defer v.mkt.mu.Unlock()
		return v.mkt.arrayRefs
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, v.StreamURL("!miniTicker@arr", "!ticker@arr"), nil)
	require.NoError(t, err)
	require.Equal(t, [len(allMarketStreams)]int{1, 1}, refs())
	require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
	require.Eventually(t, func() bool { return refs() == [len(allMarketStreams)]int{} }, time.Minute, time.Millisecond)
}
