package meltica_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// The README and the module documentation: "no allocation from the socket
// to the dispatcher; the subscribers' copies of one event are one
// allocation per publish, whatever their number" (dispatch: "publishing to
// N subscribers costs one allocation for N ≤ 135"). Measured on the whole
// step from venue bytes to delivered clones, the subscribers' goroutines
// included (AllocsPerRun counts every goroutine's allocations).
func TestDocAllocationsOnTheIngestPath(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	for _, c := range []struct {
		subscribers int
		want        float64
	}{{0, 0}, {1, 1}, {4, 1}, {8, 1}, {12, 1}, {16, 1}} {
		pools := schema.NewPools(nil)
		d := dispatch.New(pools.Events, nil)
		for range c.subscribers {
			_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) {}})
			require.NoError(t, err)
		}
		p := normalize.NewBinance(pools.Events, d, nil)
		buf, id := make([]byte, 0, 256), int64(1)
		next := func() []byte { // a new trade id each time: a repeat would be dropped
			buf = append(buf[:0], `{"e":"trade","E":1700000000001,"s":"BTCUSDT","t":`...)
			buf = strconv.AppendInt(buf, id, 10)
			id++
			return append(buf, `,"p":"67000.01000000","q":"0.00100000","T":1700000000000,"m":true}`...)
		}
		ctx := context.Background()
		require.NoError(t, p.HandleBytes(ctx, next(), 1))
		allocs := testing.AllocsPerRun(500, func() {
			if err := p.HandleBytes(ctx, next(), 1); err != nil {
				panic(err)
			}
		})
		assert.Equal(t, c.want, allocs, "%d subscribers", c.subscribers)
		require.NoError(t, d.Close(ctx))
		require.NoError(t, pools.Shutdown(ctx))
	}
}
