package meltica_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// A long-running host's churn (session doc: books "invalidated at once
// when its connection is lost", a lost connection "redialled … and
// resubscribed"; Close "shuts the pools down: its error names any pooled
// object not returned … Outstanding is then 0"; README: "Meltica starts
// no goroutine the host did not ask for and leaves nothing running after
// Close"): the simulated Binance drops the market connection 100 times,
// closes and resets in turn, while two books are kept from its depth
// diffs. Each loss invalidates both books, which are live again on the
// new connection; the venue has one market connection open at the end
// (no old one left delivering); and after Close nothing is outstanding
// and no goroutine is left.
//
// Each loss waits for the venue's next 100 ms depth batch (real time: ~190
// ms a loss, ~0.7 s of CPU in 19 s without the race detector): under -race
// 25 losses, the full 100 in CI's run without it (.ci/racetests lists the
// test for its mention of raceEnabled).
func TestS37ctHundredReconnectionsLeaveNothingBehind(t *testing.T) {
	losses := 100
	if raceEnabled {
		losses = 25
	}
	before := goleak.IgnoreCurrent()
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT", "ETHUSDT"}, Rate: 200, PingInterval: -1})
	closed := false
	t.Cleanup(func() {
		if !closed {
			v.Close()
		}
	})
	s, err := session.Start(context.Background(), session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT", "ETH-USDT"},
		Channels:  []string{"depth@100ms", "trade"},
		Client:    wsclient.Options{PingInterval: -1, IdleTimeout: -1, BackoffBase: s37ctBackoff, BackoffCap: 5 * s37ctBackoff},
	})
	require.NoError(t, err)
	sessionClosed := false
	t.Cleanup(func() {
		if !sessionClosed {
			_ = s.Close(context.Background())
		}
	})
	ctx := s31ctConnected(t, s)

	books := []string{"BTC-USDT", "ETH-USDT"}
	live := func() bool {
		for _, sym := range books {
			if b := s.Book(sym); b == nil || !b.Live() {
				return false
			}
		}
		return true
	}
	require.Eventually(t, live, s27ctWait, s37ctTick, "the books live")
	invalidations := func() (n uint64) {
		for _, b := range s.Stats().Books {
			n += b.Book.Invalidations
		}
		return n
	}
	for i := range losses {
		old := s.Stats().Market[0].Client.ConnID
		invalid := invalidations()
		f := venuesim.FaultClose
		if i%2 == 1 {
			f = venuesim.FaultReset
		}
		require.Positive(t, v.Inject(f), "loss %d", i)
		require.Eventually(t, func() bool { return invalidations() >= invalid+2 }, s27ctWait, s37ctTick, "loss %d: both books invalidated", i)
		require.Eventually(t, func() bool {
			id := s.Stats().Market[0].Client.ConnID
			return id != 0 && id != old && live()
		}, s27ctWait, s37ctTick, "loss %d: a new connection and both books live on it", i)
	}
	require.NoError(t, s.WaitConnected(ctx))
	require.Eventually(t, func() bool { return v.Stats().Active == 1 }, s27ctWait, s37ctTick,
		"one market connection open at the venue after %d losses (the venue's count of closed ones may lag): %d", losses, v.Stats().Active)
	for _, b := range s.Stats().Books {
		assert.GreaterOrEqual(t, b.Book.Invalidations, uint64(losses), "%s: invalidated at each loss: %+v", b.Symbol, b.Book)
		assert.GreaterOrEqual(t, b.Book.Fetches, uint64(losses+1), "%s: a fresh snapshot after each loss: %+v", b.Symbol, b.Book)
		assert.True(t, b.Live, b.Symbol)
	}

	cctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
	defer cancel()
	require.NoError(t, s.Close(cctx), "Close: every pooled object back")
	sessionClosed = true
	assert.Zero(t, s.Outstanding())
	v.Close()
	closed = true
	assert.NoError(t, s37ctNoLeak(before), "goroutines left after %d reconnections and Close", losses)
}

// Session doc "Lost market connections": "a book subscriber hears both:
// the book's marker names its stream, and is followed by a
// resynchronised snapshot". On Binance spot (a book from depth diffs and
// the REST snapshot) a subscriber of the book's events
// (EventBookSnapshot, EventBookUpdate) after a lost connection gets the
// book's marker for the symbol, then a snapshot of the symbol before any
// diff of it: what it needs to rebuild the book it was following.
func TestS37ctBinanceBookSubscriberGetsTheResyncedSnapshot(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 200, PingInterval: -1})
	t.Cleanup(v.Close)
	s, err := session.Start(context.Background(), session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"depth@100ms"},
		Client:    wsclient.Options{PingInterval: -1, IdleTimeout: -1, BackoffBase: s37ctBackoff, BackoffCap: 5 * s37ctBackoff},
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	s31ctConnected(t, s)
	var mu sync.Mutex
	var tape []string // "G" the book's marker, "S" a snapshot, "U" a diff, of BTC-USDT
	_, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBookSnapshot, schema.EventBookUpdate}}, &dispatch.SubscribeOptions{OrderedBound: 1 << 16, Handler: func(ev *schema.CanonicalEvent) {
		if ev.Symbol != "BTC-USDT" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		switch ev.Type {
		case schema.EventGap:
			tape = append(tape, "G")
		case schema.EventBookSnapshot:
			tape = append(tape, "S")
		case schema.EventBookUpdate:
			tape = append(tape, "U")
		}
	}})
	require.NoError(t, err)
	seen := func() string { mu.Lock(); defer mu.Unlock(); return strings.Join(tape, "") }
	require.Eventually(t, func() bool { return s.Book("BTC-USDT").Live() && strings.Contains(seen(), "U") }, s27ctWait, s37ctTick, "the book live, diffs flowing")
	require.Positive(t, v.Inject(venuesim.FaultClose))
	require.Eventually(t, func() bool { _, after, ok := strings.Cut(seen(), "G"); return ok && strings.Contains(after, "U") }, s27ctWait, s37ctTick, "the marker, then the new connection's diffs: %s", seen)
	_, after, _ := strings.Cut(seen(), "G")
	assert.True(t, strings.HasPrefix(strings.TrimLeft(after, "G"), "S"), "after the book's marker, a snapshot before any diff (got %q)", after)
}
