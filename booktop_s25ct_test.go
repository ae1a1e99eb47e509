package meltica_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// normalize/book/doc.go: a book that breaks "publishes, after its gap
// marker, an EventBBO with no bid and no ask ..., so that a subscriber of
// best bid/offers alone ... never keeps a broken book's quote as the
// latest", and books are "invalidated by gaps and by lost connections".
// Through session on the simulated Binance (book from depth@100ms diffs
// and its REST snapshot): a subscriber of best bid/offers alone, while
// the venue skips diff ids once and later resets the connection. After
// each fault it receives the empty quote, and then live quotes again
// (the book resynced); no quote it receives is crossed.
func TestS25ctBrokenBookQuoteIsWithdrawn(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 500, PingInterval: -1})
	defer v.Close()
	ctx := context.Background()
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"depth@100ms"},
	})
	require.NoError(t, err)
	defer func() { _ = s.Close(context.Background()) }()
	var mu sync.Mutex
	var empties, live int
	var crossed []string
	_, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBBO}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		mu.Lock()
		defer mu.Unlock()
		b := ev.BBO
		switch {
		case b.BidPrice.IsZero() && b.AskPrice.IsZero() && b.BidQty.IsZero() && b.AskQty.IsZero():
			empties++
		case !b.BidPrice.IsZero() && !b.AskPrice.IsZero() && b.BidPrice.Cmp(b.AskPrice) >= 0:
			crossed = append(crossed, b.BidPrice.String()+" >= "+b.AskPrice.String())
		default:
			live++
		}
	}})
	require.NoError(t, err)
	counts := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return empties, live
	}
	for i, f := range []venuesim.Fault{venuesim.FaultDepthGap, venuesim.FaultReset} {
		e0, _ := counts()
		require.Eventually(t, func() bool { _, l := counts(); return l > 0 }, time.Minute, time.Millisecond, "live quotes before fault %d", i)
		mu.Lock()
		live = 0
		mu.Unlock()
		v.Inject(f)
		require.Eventually(t, func() bool { e, _ := counts(); return e > e0 }, time.Minute, time.Millisecond, "the broken book's quote withdrawn after fault %d", i)
		mu.Lock()
		live = 0
		mu.Unlock()
		require.Eventually(t, func() bool { _, l := counts(); return l > 0 }, time.Minute, time.Millisecond, "live again after fault %d", i)
	}
	mu.Lock()
	assert.Empty(t, crossed, "crossed quotes delivered")
	mu.Unlock()
	require.NoError(t, s.Close(ctx))
}
