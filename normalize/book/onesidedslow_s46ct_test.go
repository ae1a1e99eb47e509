package book_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Contract 4 with a side emptied: a subscriber of best bid/offers stuck
// in its handler while the book goes two-sided → one-sided → another
// ask, through the real dispatcher, ends on the book's latest quote — the
// one-sided one, never the two-sided quote queued before it (a stale bid
// a strategy would join) — and sees fewer, not older, quotes. Each
// venue's real parser and Books, both sides.
func TestS46ctOneSidedLatestWinsStuckSubscriber(t *testing.T) {
	for _, v := range s46ctVenues() {
		for _, emptied := range []string{"bids", "asks"} {
			t.Run(v.name+"/"+emptied, func(t *testing.T) {
				s46ctOneSidedStuck(t, v, emptied == "bids")
			})
		}
	}
}

func s46ctOneSidedStuck(t *testing.T, v s46ctVenue, emptyBids bool) {
	ctx := context.Background()
	pools := schema.NewPools(&pool.Options{CaptureStacks: true})
	d := dispatch.New(pools.Events, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var got []schema.BBO
	first := true
	_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBBO}}, &dispatch.SubscribeOptions{
		Handler: func(ev *schema.CanonicalEvent) {
			mu.Lock()
			got = append(got, ev.BBO)
			mu.Unlock()
			if first {
				first = false
				close(entered)
				<-release
			}
		}})
	require.NoError(t, err)
	x := s46ctNewPipe(t, v, d, pools.Events)
	b, books, diff := x.b, x.books, x.diff
	x.start("100")
	<-entered // the subscriber holds the two-sided quote, stuck
	twoSided, live := b.BBO()
	require.True(t, live)
	if emptyBids {
		diff(false, "100.5", "3") // a better ask: a two-sided quote queued
		diff(true, "100", "0")    // the side emptied
		diff(false, "100.7", "4") // another ask, the side still empty
	} else {
		diff(true, "100.5", "3")
		diff(false, "101", "0")
		diff(true, "100.2", "4")
	}
	final, live := b.BBO()
	require.True(t, live)
	close(release)
	require.NoError(t, d.Close(ctx))
	books.Close()
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, got)
	require.Equal(t, final, got[len(got)-1], "the stuck subscriber's last quote is the book's latest")
	if emptyBids {
		require.True(t, final.BidQty.IsZero() && final.BidPrice.IsZero())
	} else {
		require.True(t, final.AskQty.IsZero() && final.AskPrice.IsZero())
	}
	require.LessOrEqual(t, len(got), 2, "latest-wins: the quotes queued while stuck are one: %v", got)
	require.Equal(t, twoSided, got[0])
	require.NoError(t, pools.Shutdown(ctx))
}
