package dispatch

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// TestS25PublishMergedRacingClose: PublishMerged has the contract of
// Publish — "ErrClosed once Close has begun" — so a merged event it
// reports as published (nil) was queued for every matching subscriber,
// and a Close that drained (returned nil) delivered it. Racing Close, it
// answered nil for an event a draining subscription refused: lost
// without a word. Run many times, as the race is a window of a few
// instructions.
func TestS25PublishMergedRacingClose(t *testing.T) {
	mp := pool.New("merged", 4, func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
	for range 3000 {
		d := New(newEventPool(1), &Options{Merged: mp})
		var mu sync.Mutex
		got := 0
		_, err := d.SubscribeMerged(MergedFilter{}, &MergedOptions{Handler: func(*schema.MergedEvent) {
			mu.Lock()
			got++
			mu.Unlock()
		}})
		require.NoError(t, err)
		m, err := mp.TryGet()
		require.NoError(t, err)
		m.Symbol, m.Type = "BTC-USDT", schema.EventTrade
		start := make(chan struct{})
		closed := make(chan error, 1)
		go func() {
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			closed <- d.Close(ctx)
		}()
		close(start)
		perr := d.PublishMerged(context.Background(), m)
		require.NoError(t, <-closed)
		mu.Lock()
		n := got
		mu.Unlock()
		if perr == nil {
			require.Equal(t, 1, n, "PublishMerged said published, Close said drained, the subscriber got nothing")
		} else {
			require.ErrorIs(t, perr, ErrClosed)
			require.Zero(t, n)
		}
	}
}
