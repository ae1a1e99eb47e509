package venuesim_test

import (
	"testing"
	"time"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A clock moved past many intervals at once owes one batched diff a
// stream, not one per interval: the changes pending go out at the jump's
// millisecond in one diff, the next interval's after it, each U the
// previous u + 1, and the diffs rebuild the REST snapshot's book.
func TestS37rvsimDepthClockJumpIsOneBatch(t *testing.T) {
	v, clk := s34simStart(t, "BTCUSDT")
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.CombinedURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	msgs := s34simReader(ctx, t, c)
	s34simSubscribe(ctx, t, c, msgs, "btcusdt@depth", "btcusdt@depth@100ms")
	bids, asks, last := s37Snapshot(t, v)

	s36Step(t, clk, 5, 10*time.Millisecond) // 50 ms of changes, no tick yet
	clk.Advance(5 * time.Second)            // fifty intervals at once
	clk.waitSleeping(t, time.Millisecond, 1)
	v.Pause(true)
	s36Step(t, clk, 11, 10*time.Millisecond) // the next tick's batch
	wantBids, wantAsks, final := s37Snapshot(t, v)

	t0 := s34simT0.UnixMilli()
	var fast, slow []s37Diff
	for last != final {
		m := s34simNext(t, msgs)
		var d s37Diff
		require.NoError(t, json.Unmarshal(m.Data, &d))
		if m.Stream == "btcusdt@depth" {
			slow = append(slow, d)
			continue
		}
		require.Equal(t, last+1, d.First, "U: the previous u + 1")
		fast = append(fast, d)
		last = d.Last
		bids.apply(d.Bids)
		asks.apply(d.Asks)
	}
	assert.Equal(t, wantBids, bids, "the diffs rebuild the book")
	assert.Equal(t, wantAsks, asks)
	require.Len(t, fast, 2, "@depth@100ms: the jump's batch, then the next interval's")
	assert.Equal(t, t0+5050, fast[0].Time, "at the jump")
	assert.Equal(t, t0+5100, fast[1].Time, "the next 100 ms tick")
	require.Len(t, slow, 1, "@depth: the jump's batch")
	assert.Equal(t, []any{t0 + 5050, uint64(1001)}, []any{slow[0].Time, slow[0].First})
}
