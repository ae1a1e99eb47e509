package session

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// TestS28OrderRateBounded: the order rate keeps the sends of the last span
// only. A host sending one request to each of 10,000 instruments, a
// millisecond apart, leaves at most the keys of the last 2 s (and the
// sweep's slack) in memory, not one entry per instrument ever traded
// (failed before: 10,000 entries). A key swept was idle a whole span: the
// rate it keeps is the same as before (the 61st request within 2 s still
// waits).
func TestS28OrderRateBounded(t *testing.T) {
	clk := &stepClock{Clock: wsclient.SystemClock(), now: time.Unix(1000, 0)}
	o := newOrderRate(60, 2*time.Second, clk)
	ctx := context.Background()
	for i := range 10000 {
		require.NoError(t, o.wait(ctx, &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "S" + strconv.Itoa(i)}))
		clk.now = clk.now.Add(time.Millisecond)
	}
	assert.LessOrEqual(t, len(o.sent), 2*2000+minSweep, "the keys of the last span, with the sweep's slack")
	assert.Empty(t, clk.slept)

	place := &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "BTC-USDT"}
	for range 60 {
		require.NoError(t, o.wait(ctx, place))
	}
	for i := range 5000 { // other keys, while BTC-USDT's 60 are in the span
		require.NoError(t, o.wait(ctx, &schema.OrderRequest{Action: schema.ActionCancel, Symbol: "T" + strconv.Itoa(i)}))
	}
	require.NoError(t, o.wait(ctx, place))
	require.Len(t, clk.slept, 1, "the 61st within the span waits: its key was not swept")
	assert.Equal(t, 2*time.Second, clk.slept[0])
}
