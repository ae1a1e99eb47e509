package book

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// The retry timer tries again, every RetryInterval, to publish the
// quote the pool did not give: a try that finds the pool still
// exhausted drops no new update — the one it retries was counted when
// it was dropped. Stats.BBODropped grew by one a RetryInterval on a quiet
// symbol for as long as the pool stayed exhausted.
func TestS36rvbookRetryCountsTheDroppedQuoteOnce(t *testing.T) {
	clk, b, sink, events, held := liveOnHeldPool(t)
	applyLive(t, b, okxRaw("books", "update", 10, 11, `["100.5","1","0","1"]`, "", ""))
	require.Equal(t, uint64(1), b.Stats().BBODropped)
	for range 5 {
		clk.step(time.Second)
	}
	require.Equal(t, uint64(1), b.Stats().BBODropped, "one update dropped, however often it was tried again")
	require.Equal(t, 1, clk.pending(), "still tried again")
	putAll(events, held)
	clk.step(time.Second)
	quotes := sink.ofType(schema.EventBBO)
	require.Len(t, quotes, 2)
	require.Equal(t, "100.5", quotes[1].BBO.BidPrice.String())
	require.Equal(t, uint64(1), b.Stats().BBODropped)
	require.Zero(t, clk.pending(), "nothing left to try: no timer armed")
}

// Close stops the retry timer: none stays armed on the Clock (a timer of
// a closed book, replaced in Books or shut down with the host), and a
// pool that frees after it gets nothing published into the host's sink.
func TestS36rvbookCloseStopsTheRetryTimer(t *testing.T) {
	clk, b, sink, events, held := liveOnHeldPool(t)
	applyLive(t, b, okxRaw("books", "update", 10, 11, `["100.5","1","0","1"]`, "", ""))
	require.Equal(t, 1, clk.pending(), "the retry armed")
	b.Close()
	require.Zero(t, clk.pending(), "Close left the retry timer armed")
	putAll(events, held)
	clk.step(time.Second)
	require.Len(t, sink.ofType(schema.EventBBO), 1, "a closed book published")
}
