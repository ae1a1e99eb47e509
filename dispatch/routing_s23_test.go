package dispatch_test

// Review s23, from the package documentation and the exported API only.

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// A gap marker that names no stream type (GapType EventUnknown: Coinbase
// Advanced Trade's marker for a whole connection, say) says that any
// stream of its venue — of its symbol, when it names one — may have lost
// events. A subscriber that filters by type (book diffs only) must still
// hear it: "a strategy never trades on a book it does not know is
// broken". A subscriber of another venue, or of another symbol when the
// marker names one, does not.
func TestS23MarkerOfNoTypeReachesTypeFilteredSubscribers(t *testing.T) {
	t.Parallel()
	const venue = schema.VenueCoinbase
	p := adv3Pool(64)
	d := dispatch.New(p, nil)
	defer adv3Close(t, d)
	sub := func(f dispatch.Filter) *dispatch.Subscription {
		s, err := d.Subscribe(f, nil)
		require.NoError(t, err)
		return s
	}
	books := sub(dispatch.Filter{Venues: []schema.Venue{venue}, Types: []schema.EventType{schema.EventBookUpdate}})
	btcBooks := sub(dispatch.Filter{Symbols: []string{"BTC-USD"}, Types: []schema.EventType{schema.EventBookUpdate, schema.EventTrade}})
	ethTrades := sub(dispatch.Filter{Symbols: []string{"ETH-USD"}, Types: []schema.EventType{schema.EventTrade}})
	other := sub(dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}, Types: []schema.EventType{schema.EventBookUpdate}})
	gaps := sub(dispatch.Filter{Types: []schema.EventType{schema.EventGap}})
	// Execution reports and account updates are not market data: a
	// marker naming no type is not about them.
	execs := sub(dispatch.Filter{Types: []schema.EventType{schema.EventExecReport, schema.EventBalance}})

	recv := func(s *dispatch.Subscription) *schema.CanonicalEvent {
		t.Helper()
		select {
		case ev := <-s.C():
			return ev
		case <-time.After(60 * time.Second):
			t.Fatal("nothing delivered")
			return nil
		}
	}
	// The whole connection: every subscriber of the venue hears it.
	adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Type = venue, schema.EventGap
		ev.Control = &schema.Control{Kind: schema.ControlGap, GapSource: schema.GapVenue}
	})
	for _, s := range []*dispatch.Subscription{books, btcBooks, ethTrades, gaps} {
		ev := recv(s)
		require.Equal(t, schema.EventGap, ev.Type)
		require.Equal(t, venue, ev.Venue)
	}
	// One symbol, every type: its subscribers hear it, ETH's do not.
	adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = venue, "BTC-USD", schema.EventGap
		ev.Control = &schema.Control{Kind: schema.ControlGap, GapSource: schema.GapVenue}
	})
	for _, s := range []*dispatch.Subscription{books, btcBooks, gaps} {
		ev := recv(s)
		require.Equal(t, "BTC-USD", ev.Symbol)
	}
	// A later event proves the others got nothing in between.
	adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = venue, "ETH-USD", schema.EventTrade
	})
	require.Equal(t, schema.EventTrade, recv(ethTrades).Type)
	adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTCUSDT", schema.EventBookUpdate
	})
	require.Equal(t, schema.EventBookUpdate, recv(other).Type)
	adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = venue, "BTC-USD", schema.EventExecReport
	})
	require.Equal(t, schema.EventExecReport, recv(execs).Type)
	for _, s := range []*dispatch.Subscription{books, btcBooks, ethTrades, other, gaps, execs} {
		require.NoError(t, d.Unsubscribe(s))
	}
}

// "A slow consumer sees fewer, fresher updates, never stale ones." A gap
// marker is critical and overtakes the market data queued before it; a
// best bid/offer (or ticker, mark price…) still queued from before a
// marker about its stream is from before the loss, and delivered after the
// marker it would pass for the stream's fresh state. The marker replaces
// it: the subscriber hears of the loss, then only what came after it.
func TestS23MarkerDiscardsTheQuotesQueuedBeforeIt(t *testing.T) {
	t.Parallel()
	const x, y = schema.VenueOKX, schema.VenueBybit
	type q struct {
		venue schema.Venue
		sym   string
		typ   schema.EventType
	}
	queued := []q{{x, "BTC-USDT", schema.EventBBO}, {x, "BTC-USDT", schema.EventTicker}, {x, "ETH-USDT", schema.EventBBO},
		{y, "BTC-USDT", schema.EventBBO}, {x, "BTC-USDT", schema.EventTrade}}
	for _, tc := range []struct {
		name    string
		sym     string
		gapType schema.EventType
		kept    []q
	}{
		{"best bid/offer stream", "BTC-USDT", schema.EventBBO, []q{queued[1], queued[2], queued[3], queued[4]}},
		{"whole symbol", "BTC-USDT", schema.EventUnknown, []q{queued[2], queued[3], queued[4]}},
		{"whole venue", "", schema.EventUnknown, []q{queued[3], queued[4]}},
		{"the venue's best bid/offers", "", schema.EventBBO, []q{queued[1], queued[3], queued[4]}},
		{"trades", "BTC-USDT", schema.EventTrade, queued},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := adv3Pool(64)
			d := dispatch.New(p, nil)
			defer adv3Close(t, d)
			g, s := adv3Stalled(t, d, p, dispatch.SubscribeOptions{})
			for _, e := range queued {
				adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
					ev.Venue, ev.Symbol, ev.Type = e.venue, e.sym, e.typ
					ev.BBO.BidPrice = schema.NewDecimal(1, 0)
				})
			}
			adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
				ev.Venue, ev.Symbol, ev.Type = x, tc.sym, schema.EventGap
				ev.Control = &schema.Control{Kind: schema.ControlGap, GapType: tc.gapType, GapSource: schema.GapVenue}
			})
			// After the marker: the stream's fresh state.
			adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
				ev.Venue, ev.Symbol, ev.Type = x, "BTC-USDT", schema.EventBBO
				ev.BBO.BidPrice = schema.NewDecimal(2, 0)
			})
			close(g.gate)
			require.Eventually(t, s.Idle, 20*time.Second, time.Millisecond)
			got := g.events()
			require.Equal(t, schema.EventControl, got[0].Type)
			if tc.gapType == schema.EventTrade {
				// In line with the trades; the quote published after it
				// replaced the queued one of its stream, as always.
				require.Len(t, got, 1+len(queued)+1)
				require.Equal(t, "2", got[1].BBO.BidPrice.String())
				require.Equal(t, uint64(1), s.Stats().Coalesced)
				return
			}
			require.Equal(t, schema.EventGap, got[1].Type, "the marker overtakes market data")
			var rest []q
			for _, ev := range got[2 : len(got)-1] {
				rest = append(rest, q{ev.Venue, ev.Symbol, ev.Type})
			}
			require.ElementsMatch(t, tc.kept, rest, "what was queued before the marker and is still delivered")
			last := got[len(got)-1]
			require.Equal(t, q{x, "BTC-USDT", schema.EventBBO}, q{last.Venue, last.Symbol, last.Type})
			require.Equal(t, "2", last.BBO.BidPrice.String(), "the quote published after the marker")
			require.Equal(t, uint64(len(queued)-len(tc.kept)), s.Stats().Coalesced, "the quotes the marker replaced are counted")
		})
	}
}

// Random traffic of quotes on several streams and gap markers about one
// stream, one symbol or one venue, published while a slow subscriber
// delivers: no quote is delivered after a marker published after it about
// its stream (never a pre-loss quote passing for post-loss), and each
// stream ends on what was published last about it (the latest quote, or
// the marker that withdrew it).
func TestS23MarkersAndQuotesRandom(t *testing.T) {
	t.Parallel()
	venues := []schema.Venue{schema.VenueOKX, schema.VenueBybit}
	syms := []string{"BTC-USDT", "ETH-USDT"}
	types := []schema.EventType{schema.EventBBO, schema.EventTicker}
	type stream struct {
		v   schema.Venue
		sym string
		typ schema.EventType
	}
	covers := func(g *schema.CanonicalEvent, s stream) bool {
		return g.Venue == s.v && (g.Symbol == "" || g.Symbol == s.sym) &&
			(g.Control.GapType == schema.EventUnknown || g.Control.GapType == s.typ)
	}
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 23))
		p := adv3Pool(256)
		d := dispatch.New(p, nil)
		tokens := make(chan struct{}, 1<<16)
		var mu sync.Mutex
		var got []*schema.CanonicalEvent
		s, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
			<-tokens
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
		}})
		require.NoError(t, err)
		var published []*schema.CanonicalEvent
		for i := range 3000 {
			ev, err := p.Get(context.Background())
			require.NoError(t, err)
			ev.TraceID = uint64(i + 1)
			ev.Venue = venues[rng.IntN(len(venues))]
			if rng.IntN(15) == 0 {
				ev.Type = schema.EventGap
				ev.Control = &schema.Control{Kind: schema.ControlGap, GapSource: schema.GapVenue}
				switch rng.IntN(3) {
				case 0:
					ev.Symbol, ev.UseControl().GapType = syms[rng.IntN(len(syms))], types[rng.IntN(len(types))]
				case 1:
					ev.Symbol = syms[rng.IntN(len(syms))]
				}
			} else {
				ev.Symbol, ev.Type = syms[rng.IntN(len(syms))], types[rng.IntN(len(types))]
				ev.BBO.BidPrice = schema.NewDecimal(int64(i+1), 0)
			}
			published = append(published, ev.Clone())
			require.NoError(t, d.Publish(context.Background(), ev))
			for range rng.IntN(3) {
				tokens <- struct{}{}
			}
		}
		close(tokens) // let everything through
		require.Eventually(t, s.Idle, 30*time.Second, time.Millisecond)
		adv3Close(t, d)

		mu.Lock()
		delivered := got
		mu.Unlock()
		var all []stream
		for _, v := range venues {
			for _, sym := range syms {
				for _, typ := range types {
					all = append(all, stream{v, sym, typ})
				}
			}
		}
		for _, st := range all {
			var lastMarker uint64 // publish index of the last marker about st delivered so far
			var lastSeen uint64   // publish index of the last event about st delivered
			for _, ev := range delivered {
				switch {
				case ev.Type == schema.EventGap && covers(ev, st):
					lastMarker = max(lastMarker, ev.TraceID)
					lastSeen = ev.TraceID
				case ev.Type != schema.EventGap && (stream{ev.Venue, ev.Symbol, ev.Type}) == st:
					require.Greater(t, ev.TraceID, lastMarker, "seed %d %v: quote #%d delivered after marker #%d published after it", seed, st, ev.TraceID, lastMarker)
					lastSeen = ev.TraceID
				}
			}
			var lastPub uint64
			for _, ev := range published {
				if (ev.Type == schema.EventGap && covers(ev, st)) || (ev.Type != schema.EventGap && (stream{ev.Venue, ev.Symbol, ev.Type}) == st) {
					lastPub = ev.TraceID
				}
			}
			require.Equal(t, lastPub, lastSeen, "seed %d %v: the stream ends on what was published last about it", seed, st)
		}
		require.Zero(t, p.Stats().InUse)
	}
}

// Merged subscriptions ended from anywhere: a handler that unsubscribes
// itself gets nothing more and its goroutine ends; eight goroutines racing
// to unsubscribe one subscription: exactly one succeeds, the rest get
// ErrUnknownSubscription; Close afterwards returns at once.
func TestS23UnsubscribeMergedFromAnywhere(t *testing.T) {
	t.Parallel()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, &dispatch.Options{Merged: pools.Merged})
	var self *dispatch.MergedSubscription
	ready := make(chan struct{})
	calls := 0
	self, err := d.SubscribeMerged(dispatch.MergedFilter{}, &dispatch.MergedOptions{Handler: func(*schema.MergedEvent) {
		<-ready
		calls++
		require.NoError(t, d.UnsubscribeMerged(self))
	}})
	require.NoError(t, err)
	close(ready)
	other, err := d.SubscribeMerged(dispatch.MergedFilter{}, nil)
	require.NoError(t, err)
	ctx := context.Background()
	for range 3 {
		m, err := pools.Merged.Get(ctx)
		require.NoError(t, err)
		m.Symbol, m.Type, m.WindowOpen, m.WindowClose = "BTC-USDT", schema.EventTrade, 1, 2
		require.NoError(t, d.PublishMerged(ctx, m))
	}
	select {
	case <-self.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("a handler that unsubscribed itself did not end")
	}
	require.Equal(t, 1, calls)
	require.ErrorIs(t, d.UnsubscribeMerged(self), dispatch.ErrUnknownSubscription)

	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { errs <- d.UnsubscribeMerged(other) })
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		if err == nil {
			ok++
		} else {
			require.ErrorIs(t, err, dispatch.ErrUnknownSubscription)
		}
	}
	require.Equal(t, 1, ok)
	<-other.Done()
	for range other.C() { // closed: nothing left to read
	}
	adv3Close(t, d)
	require.NoError(t, pools.Shutdown(ctx))
}

// A lane bound is a bound, not a size: a subscriber that asks for a huge
// OrderedBound or CriticalBound (to drop nothing it could keep) pays for
// what it queues, not for its bound.
func TestS23HugeBoundsCostWhatIsQueued(t *testing.T) {
	t.Parallel()
	p := adv3Pool(64)
	d := dispatch.New(p, nil)
	defer adv3Close(t, d)
	g, s := adv3Stalled(t, d, p, dispatch.SubscribeOptions{OrderedBound: math.MaxInt, CriticalBound: math.MaxInt})
	for i := range 5000 {
		adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = adv3Venue, "BTC-USDT", schema.EventTrade, uint64(i+1)
		})
	}
	require.Equal(t, 5000, s.Stats().Ordered)
	require.Zero(t, s.Stats().Dropped)
	close(g.gate)
	require.Eventually(t, s.Idle, 30*time.Second, time.Millisecond)
	require.Len(t, g.events(), 5001)
}
