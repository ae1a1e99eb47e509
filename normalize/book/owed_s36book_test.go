package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A book without MaxSilence had no timer: what it could not publish on an
// exhausted pool waited for its next message (or PublishTop). A quote
// dropped with nothing owed left the subscribers' latest the older top;
// a break's announcement owed (a lost connection while the pool was
// exhausted: its gap marker and its quote's withdrawal) left them the
// broken book's quote, the break untold — for as long as the venue sent
// the symbol nothing, as it does not while the connection is down. Both
// are now tried again every RetryInterval (by the Clock) until out.
func TestS36OwedWithoutMaxSilenceGoesOutOnTheRetryTimer(t *testing.T) {
	t.Run("quote dropped", func(t *testing.T) {
		clk, b, sink, events, held := liveOnHeldPool(t)
		applyLive(t, b, okxRaw("books", "update", 10, 11, `["100.5","1","0","1"]`, "", ""))
		require.Equal(t, uint64(1), b.Stats().BBODropped)
		putAll(events, held)

		clk.step(time.Second)
		quotes := sink.ofType(schema.EventBBO)
		require.Len(t, quotes, 2, "the dropped quote is still not out a RetryInterval after the pool freed")
		require.Equal(t, "100.5", quotes[1].BBO.BidPrice.String())
	})
	t.Run("break announced", func(t *testing.T) {
		clk, b, sink, events, held := liveOnHeldPool(t)
		expired, cancel := context.WithCancel(context.Background())
		cancel()
		require.Error(t, b.Apply(expired, lostConn(schema.VenueOKX, 0)))
		require.False(t, b.Live())
		putAll(events, held)

		clk.step(time.Second)
		require.Len(t, sink.ofType(schema.EventGap), 1, "the break is still untold a RetryInterval after the pool freed")
		quotes := sink.ofType(schema.EventBBO)
		require.Len(t, quotes, 2)
		require.True(t, quotes[1].BBO.BidPrice.IsZero() && quotes[1].BBO.AskPrice.IsZero(), "the broken book's quote is the subscribers' latest")
	})
}

// liveOnHeldPool is an OKX book without MaxSilence on a step clock, live
// with a quote out, and every event of its pool held by the test.
func liveOnHeldPool(t *testing.T) (*stepClock, *Book, *recSink, poolOfEvents, []*schema.CanonicalEvent) {
	clk := newStepClock()
	b, sink, events := newRecBook(t, OKX, "BTC-USDT", &Options{Clock: clk, RetryInterval: time.Second})
	t.Cleanup(b.Close)
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	return clk, b, sink, events, takeAll(events)
}
