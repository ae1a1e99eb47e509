package dispatch

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// TestS30rvdispPanickingLoggerOnMergedSubscriber: a merged subscription's
// handler panic is logged inside its recovery, as a canonical one's is; a
// host Logger that panics there too is recovered and counted
// (MergedStats.Panics), and the subscription goes on delivering.
func TestS30rvdispPanickingLoggerOnMergedSubscriber(t *testing.T) {
	merged := pool.New("merged", 16, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	d := New(newEventPool(4), &Options{Merged: merged, Logger: slog.New(panicky{})})
	got := make(chan uint64, 16)
	s, err := d.SubscribeMerged(MergedFilter{}, &MergedOptions{Handler: func(m *schema.MergedEvent) {
		if m.MergeID == 1 {
			panic("strategy bug")
		}
		got <- m.MergeID
	}})
	require.NoError(t, err)
	for id := uint64(1); id <= 2; id++ {
		require.NoError(t, d.PublishMerged(context.Background(), takeMerged(t, merged, "BTC-USDT", schema.EventTrade, id)))
	}
	require.Equal(t, uint64(2), <-got, "delivery stopped")
	require.Equal(t, uint64(2), s.Stats().Panics, "the handler's panic and the logger's")
	closeDispatcher(t, d)
}
