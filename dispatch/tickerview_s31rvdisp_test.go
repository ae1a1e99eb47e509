package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS31rvdispWindowedMarkerKeepsTheMiniTicker: a gap marker about a
// symbol's tickers that states no window (normalize's, a relay's after
// its link came back) covers both kinds; one that states a window — a
// subscriber queue's about a full ticker dropped past its bound
// (dropOldestQuoteLocked copies the window), relayed to this dispatcher
// by natsbridge — reports on the full ticker only. It emptied the mini
// ticker's slot too: that quote, fresh and not covered by the marker, was
// discarded, the subscriber left on an older one until the next.
func TestS31rvdispWindowedMarkerKeepsTheMiniTicker(t *testing.T) {
	p := newEventPool(16)
	d := New(p, nil)
	s, err := d.Subscribe(Filter{}, nil) // a channel: events wait until read
	require.NoError(t, err)
	recv := func() *schema.CanonicalEvent {
		t.Helper()
		select {
		case ev := <-s.C():
			return ev
		case <-time.After(30 * time.Second):
			t.Fatal("nothing delivered")
			return nil
		}
	}
	ctx := context.Background()
	publish(t, d, p, bin, "ETHUSDT", schema.EventTrade, 1) // taken by the goroutine: what comes next waits
	eventually(t, func() bool { return s.Stats().Depth == 0 }, "the goroutine took the trade")
	full := take(t, p, bin, "BTCUSDT", schema.EventTicker, 2)
	full.UseTicker().WindowOpen, full.UseTicker().WindowClose = 1672429382136e6, 1672515782136e6
	require.NoError(t, d.Publish(ctx, full))
	publish(t, d, p, bin, "BTCUSDT", schema.EventTicker, 3) // the mini ticker: no window
	require.Equal(t, 2, s.Stats().Coalescing)
	g := take(t, p, bin, "BTCUSDT", schema.EventGap, 4)
	g.UseControl().Kind, g.UseControl().GapType, g.UseControl().GapSource = schema.ControlGap, schema.EventTicker, schema.GapSubscriberQueue
	g.UseTicker().WindowClose = 1672515782136e6 // about the full ticker
	require.NoError(t, d.Publish(ctx, g))
	require.Equal(t, 1, s.Stats().Coalescing, "a marker about the full ticker discarded the mini ticker's quote too")
	require.Equal(t, uint64(1), recv().SeqProvider)
	require.Equal(t, schema.EventGap, recv().Type)
	mini := recv()
	require.Equal(t, uint64(3), mini.SeqProvider)
	require.Nil(t, mini.Ticker, "the mini ticker was published without a Ticker section: its clone has none, so no window")
	require.NoError(t, d.Unsubscribe(s))
	closeDispatcher(t, d)
}
