package meltica_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// TestS38ctStatsAddUpBehindASlowHandler holds a subscriber's handler
// while trades, quotes and execution reports are published, lets it go,
// and adds up: every event published to it is counted once, as
// delivered, coalesced or dropped, by lane and by stream.
//
// Package dispatch: "Stats.Delivered: events handed to the handler";
// "Coalesced: queued coalescable events replaced by a newer one of their
// stream"; "Dropped: ordered events dropped because the lane was full";
// "Gaps: gap markers made for those drops"; "Overflowed: critical events
// queued beyond CriticalBound (none lost)"; the ordered lane "When it is
// full the oldest event is dropped and counted, and recorded in its
// stream's gap marker ... naming the venue, symbol, type, view, count and
// sequence range (when known) of what was lost"; a slow subscriber "sees
// fewer, fresher updates, and always the latest in the end"; Publish
// returns the pooled original "before Publish returns".
func TestS38ctStatsAddUpBehindASlowHandler(t *testing.T) {
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	var tally s38ctTally
	stall := newS35ctStalled(tally.handle)
	const critBound, ordBound = 4, 8
	sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: stall.handle, CriticalBound: critBound, OrderedBound: ordBound})
	require.NoError(t, err)
	var fast s38ctTally // a second subscriber of the trades, never held
	fastSub, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: fast.handle})
	require.NoError(t, err)

	release := stall.hold(t, d, s35ctEvent(t, pools, s35ctConn(schema.VenueBinance, schema.ConnConnected, time.Unix(1, 0))))
	trades := []string{"BTC-USDT", "ETH-USDT", "SOL-USDT"}
	quotes := []string{"BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "ADA-USDT"}
	const perTrade, perQuote, execs = 67, 60, 20
	for i := 1; i <= perQuote+perTrade; i++ {
		if i <= perTrade {
			for _, sym := range trades {
				s38ctPublish(t, d, pools, s38ctTrade(sym, uint64(i)))
			}
		}
		if i <= perQuote {
			for _, sym := range quotes {
				s38ctPublish(t, d, pools, s35ctBBO(schema.VenueBinance, sym, fmt.Sprintf("%d", 100+i), fmt.Sprintf("%d", 200+i), time.Unix(int64(i), 0)))
			}
		}
		if i <= execs {
			s38ctPublish(t, d, pools, s38ctExec(i))
		}
	}
	require.Zero(t, s38ctInUse(pools), "every original back in its pool once Publish returned")
	held := sub.Stats()
	assert.Equal(t, 1, held.InHand, "the plug is in hand: %+v", held)
	assert.Equal(t, execs, held.Critical, "every report queued, none dropped: %+v", held)
	assert.Equal(t, uint64(execs-critBound), held.Overflowed, "the reports queued beyond CriticalBound: %+v", held)
	release()
	s35ctIdle(t, sub)
	s35ctIdle(t, fastSub)

	st := sub.Stats()
	got := tally.all()
	// By lane: the critical lane delivers everything, in order.
	var reports []string
	for _, ev := range got {
		if ev.Type == schema.EventExecReport {
			reports = append(reports, ev.Exec.ClientOrderID.String())
		}
	}
	want := make([]string, execs)
	for i := range want {
		want[i] = fmt.Sprintf("o%d", i+1)
	}
	assert.Equal(t, want, reports, "every execution report, in order")

	// Coalescing: one per stream handed over, the latest; the rest coalesced.
	bbo := tally.count(schema.EventBBO)
	var bboIn int
	for _, sym := range quotes {
		assert.Equal(t, 1, bbo[sym], "%s: the latest quote only", sym)
		bboIn += bbo[sym]
	}
	for _, ev := range got {
		if ev.Type == schema.EventBBO {
			assert.Equal(t, fmt.Sprintf("%d", 100+perQuote), ev.BBO.BidPrice.String(), "%s: the latest quote", ev.Symbol)
		}
	}
	assert.Equal(t, uint64(len(quotes)*perQuote-bboIn), st.Coalesced, "quotes published = handed over + coalesced: %+v", st)

	// Ordered: per stream, handed over + the count of its markers = published,
	// and the markers' sequence range is what was dropped (the oldest).
	tr := tally.count(schema.EventTrade)
	gaps := tally.queueGaps(schema.EventTrade)
	var trIn, markers int
	var lost uint64
	for _, sym := range trades {
		var n uint64
		for _, c := range gaps[sym] {
			n += c.GapCount
		}
		markers += len(gaps[sym])
		lost += n
		trIn += tr[sym]
		assert.Equal(t, perTrade, tr[sym]+int(n), "%s: trades handed over %d + lost in markers %d", sym, tr[sym], n)
		if len(gaps[sym]) == 1 && tr[sym] > 0 {
			first := uint64(0)
			for _, ev := range got {
				if ev.Type == schema.EventTrade && ev.Symbol == sym {
					first = ev.SeqProvider
					break
				}
			}
			c := gaps[sym][0]
			assert.Equal(t, [2]uint64{1, first - 1}, [2]uint64{c.GapFirstSeq, c.GapLastSeq}, "%s: the marker's range is the trades dropped", sym)
		}
	}
	assert.Equal(t, ordBound, trIn, "the ordered lane kept its bound's worth")
	assert.Equal(t, uint64(len(trades)*perTrade-trIn), st.Dropped, "trades published = handed over + dropped: %+v", st)
	assert.Equal(t, lost, st.Dropped, "the markers' counts add up to Dropped")
	assert.Equal(t, uint64(markers), st.Gaps, "Gaps counts the markers made")

	// Delivered counts every event handed over, once.
	assert.Equal(t, uint64(len(got)), st.Delivered, "Delivered = events handed to the handler: %+v", st)
	assert.Equal(t, 1+execs+bboIn+trIn+markers, len(got), "the plug, the reports, the quotes, the trades and the markers, nothing else")
	assert.Zero(t, st.Depth+st.Critical+st.Coalescing+st.Ordered+st.Markers+st.InHand, "nothing left queued: %+v", st)
	assert.Zero(t, st.Discarded)

	fs := fastSub.Stats()
	assert.Equal(t, uint64(len(fast.all())), fs.Delivered)
	assert.Equal(t, uint64(len(trades)*perTrade), fs.Delivered+fs.Dropped, "the other subscriber: every trade once: %+v", fs)

	ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
	defer cancel()
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx), "pools back to 0 outstanding after Close")
}

// s38ctBacklog holds sub's handler on a plug and queues, behind it, ten
// trades of one stream, thirty quotes of three and five execution
// reports. It returns the release of the handler.
func s38ctBacklog(t *testing.T, d *dispatch.Dispatcher, pools *schema.Pools, stall *s35ctStalled) func() {
	t.Helper()
	release := stall.hold(t, d, s35ctEvent(t, pools, s35ctConn(schema.VenueBinance, schema.ConnConnected, time.Unix(1, 0))))
	for i := 1; i <= 10; i++ {
		s38ctPublish(t, d, pools, s38ctTrade("BTC-USDT", uint64(i)))
		for _, sym := range []string{"BTC-USDT", "ETH-USDT", "SOL-USDT"} {
			s38ctPublish(t, d, pools, s35ctBBO(schema.VenueBinance, sym, fmt.Sprint(100+i), fmt.Sprint(200+i), time.Unix(int64(i), 0)))
		}
		if i <= 5 {
			s38ctPublish(t, d, pools, s38ctExec(i))
		}
	}
	return release
}

// TestS38ctStatsAddUpAtUnsubscribe unsubscribes a subscriber whose
// handler is held with a backlog queued: what was queued is counted once,
// as Discarded (or Coalesced before), nothing reaches the handler after,
// and its goroutine ends.
//
// Package dispatch: Unsubscribe "ends s at once: it receives nothing
// more, what it had queued is released (counted in Stats.Discarded) and
// its goroutine exits as soon as it is not inside the handler; s.Done()
// tells when".
func TestS38ctStatsAddUpAtUnsubscribe(t *testing.T) {
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	var tally s38ctTally
	stall := newS35ctStalled(tally.handle)
	sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: stall.handle})
	require.NoError(t, err)
	release := s38ctBacklog(t, d, pools, stall)
	before := sub.Stats()
	require.NoError(t, d.Unsubscribe(sub))
	require.ErrorIs(t, d.Unsubscribe(sub), dispatch.ErrUnknownSubscription, "ended already")
	s38ctPublish(t, d, pools, s38ctExec(99)) // after Unsubscribe: not for sub
	release()
	select {
	case <-sub.Done():
	case <-time.After(s27ctWait):
		t.Fatal("the subscription's goroutine never ended")
	}
	st := sub.Stats()
	assert.Equal(t, uint64(27), st.Coalesced, "30 quotes of 3 streams: 27 replaced: %+v", st)
	assert.Equal(t, uint64(before.Depth), st.Discarded, "what was queued at Unsubscribe is Discarded: before %+v after %+v", before, st)
	assert.Equal(t, uint64(10+3+5), st.Discarded, "10 trades, 3 quotes, 5 reports were queued: %+v", st)
	assert.Equal(t, uint64(1), st.Delivered, "the plug only: %+v", st)
	assert.Len(t, tally.all(), 1, "nothing handed over after Unsubscribe")
	assert.Equal(t, uint64(1+10+30+5), st.Delivered+st.Coalesced+st.Dropped+st.Discarded, "every event once: %+v", st)
	ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
	defer cancel()
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))
}

// TestS38ctStatsAddUpAtCloseThatGivesUp closes a dispatcher whose
// subscriber's handler is held with a backlog queued, with a context that
// has ended: Close reports a *CloseError naming what it released and the
// goroutine still in its handler, the subscription's Stats count the same
// events Discarded, and the handler gets nothing more.
//
// Package dispatch, Close: "When ctx ends first ..., what is still queued
// is released and Close returns a *CloseError; a goroutine still inside
// its handler exits when the handler returns"; CloseError "Discarded:
// queued events released undelivered; Running: subscriber goroutines
// still inside a handler; Err: the context's error"; Stats.Discarded
// "queued events released at Unsubscribe or at a Close that timed out".
func TestS38ctStatsAddUpAtCloseThatGivesUp(t *testing.T) {
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	var tally s38ctTally
	stall := newS35ctStalled(tally.handle)
	sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: stall.handle})
	require.NoError(t, err)
	release := s38ctBacklog(t, d, pools, stall)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = d.Close(ctx)
	release()
	var ce *dispatch.CloseError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, context.Canceled, "Unwrap gives the context's error")
	assert.Equal(t, uint64(18), ce.Discarded, "10 trades, 3 quotes, 5 reports released: %v", err)
	assert.Equal(t, 1, ce.Running, "the held handler: %v", err)
	select {
	case <-sub.Done():
	case <-time.After(s27ctWait):
		t.Fatal("the subscription's goroutine never ended after its handler returned")
	}
	st := sub.Stats()
	assert.Equal(t, ce.Discarded, st.Discarded, "the subscription counts what Close released: %+v", st)
	assert.Equal(t, uint64(1), st.Delivered, "%+v", st)
	assert.Len(t, tally.all(), 1, "nothing handed over after Close gave up")
	assert.Equal(t, uint64(1+10+30+5), st.Delivered+st.Coalesced+st.Dropped+st.Discarded, "every event once: %+v", st)
	assert.True(t, errors.Is(d.Publish(context.Background(), s35ctEvent(t, pools, s38ctExec(7))), dispatch.ErrClosed))
	require.Zero(t, s38ctInUse(pools), "the refused event went back too")
	sctx, scancel := context.WithTimeout(context.Background(), s27ctWait)
	defer scancel()
	require.NoError(t, pools.Shutdown(sctx))
}

// TestS38ctStatsAddUpOnAChannelReadAfterClose reads a channel
// subscription only after Close returned: it gets what was queued, in
// its lanes' order (every report), the channel closes after the last,
// and Delivered counts what was received.
//
// Package dispatch, Close: "Close does not wait for channel
// subscriptions ...: Its goroutine keeps offering what was queued on C —
// and nothing newer — and closes C after the last event"; Stats.Delivered
// "events handed to the handler or received from C".
func TestS38ctStatsAddUpOnAChannelReadAfterClose(t *testing.T) {
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{OrderedBound: 4})
	require.NoError(t, err)
	for i := 1; i <= 10; i++ {
		s38ctPublish(t, d, pools, s38ctTrade("BTC-USDT", uint64(i)))
		s38ctPublish(t, d, pools, s35ctBBO(schema.VenueBinance, "ETH-USDT", fmt.Sprint(100+i), fmt.Sprint(200+i), time.Unix(int64(i), 0)))
		s38ctPublish(t, d, pools, s38ctExec(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
	defer cancel()
	require.NoError(t, d.Close(ctx))
	var tally s38ctTally
	for ev := range sub.C() {
		tally.handle(ev)
	}
	select {
	case <-sub.Done():
	case <-time.After(s27ctWait):
		t.Fatal("the channel subscription's goroutine never ended")
	}
	st := sub.Stats()
	got := tally.all()
	assert.Equal(t, uint64(len(got)), st.Delivered, "Delivered = received from C: %+v", st)
	assert.Len(t, tally.count(schema.EventExecReport), 1)
	assert.Equal(t, 10, tally.count(schema.EventExecReport)["BTC-USDT"], "every report")
	trIn := tally.count(schema.EventTrade)["BTC-USDT"]
	var lost uint64
	for _, c := range tally.queueGaps(schema.EventTrade)["BTC-USDT"] {
		lost += c.GapCount
	}
	assert.Equal(t, 10, trIn+int(lost), "trades handed over + lost in markers")
	assert.Equal(t, uint64(10-trIn), st.Dropped, "%+v", st)
	bboIn := tally.count(schema.EventBBO)["ETH-USDT"]
	assert.Equal(t, uint64(10-bboIn), st.Coalesced, "%+v", st)
	assert.Zero(t, st.Discarded)
	require.NoError(t, pools.Shutdown(ctx))
}

// TestS38ctStatsAddUpPastTheQuoteBound holds a subscriber while quotes of
// more streams than its coalescing lane holds (32,768) come: the quotes
// queued first are dropped, each counted in Stats.Coalesced and announced
// by a gap marker about its stream on the critical lane (GapSource
// GapSubscriberQueue, GapType the quote's type, GapCount the quotes
// dropped), delivered before any quote; every other stream's latest quote
// comes. Quotes in = delivered + coalesced, markers = Gaps.
//
// Package dispatch, Lanes, Coalescing: "It holds one event per stream,
// and at most 32,768 ...: Past that the quote queued first is dropped
// (counted in Stats.Coalesced) and announced by a gap marker about its
// stream (its Symbol and view ...; Control.GapType the type, GapSource
// GapSubscriberQueue, GapCount the quotes dropped) on the critical lane,
// so ahead of the stream's next quote"; Stats.Gaps counts markers "for
// quotes dropped past the coalescing lane's bound".
func TestS38ctStatsAddUpPastTheQuoteBound(t *testing.T) {
	if testing.Short() {
		t.Skip("33k quotes, about 64 MiB queued")
	}
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	var tally s38ctTally
	stall := newS35ctStalled(tally.handle)
	sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: stall.handle})
	require.NoError(t, err)
	release := stall.hold(t, d, s35ctEvent(t, pools, s35ctConn(schema.VenueBinance, schema.ConnConnected, time.Unix(1, 0))))
	const bound, over = 32768, 10
	sym := func(i int) string { return fmt.Sprintf("S%d-USDT", i) }
	for i := range bound + over {
		s38ctPublish(t, d, pools, s35ctBBO(schema.VenueBinance, sym(i), "1", "2", time.Unix(int64(i+2), 0)))
	}
	held := sub.Stats()
	release()
	s35ctIdle(t, sub)
	st := sub.Stats()
	got := tally.all()
	quotes := tally.count(schema.EventBBO)
	gaps := tally.queueGaps(schema.EventBBO)
	var firstQuote, lastMarker int
	for i, ev := range got {
		if ev.Type == schema.EventBBO && firstQuote == 0 {
			firstQuote = i
		}
		if ev.Type == schema.EventGap {
			lastMarker = i
		}
	}
	assert.Equal(t, bound, held.Coalescing, "the lane held its bound: %+v", held)
	assert.Len(t, quotes, bound, "one quote of each stream kept")
	assert.Len(t, gaps, over, "one marker per stream dropped")
	for i := range over {
		if assert.Len(t, gaps[sym(i)], 1, "%s: the quotes queued first are dropped", sym(i)) {
			c := gaps[sym(i)][0]
			assert.Equal(t, uint64(1), c.GapCount, sym(i))
		}
		assert.Zero(t, quotes[sym(i)], "%s: its quote was dropped", sym(i))
	}
	assert.Less(t, lastMarker, firstQuote, "the markers, on the critical lane, come before the quotes")
	assert.Equal(t, uint64(over), st.Coalesced, "%+v", st)
	assert.Equal(t, uint64(over), st.Gaps, "%+v", st)
	assert.Equal(t, uint64(len(got)), st.Delivered, "%+v", st)
	assert.Equal(t, uint64(bound+over), st.Delivered-1-st.Gaps+st.Coalesced, "quotes in = delivered + coalesced: %+v", st)
	ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
	defer cancel()
	require.NoError(t, d.Close(ctx))
	require.NoError(t, pools.Shutdown(ctx))
}

// TestS38ctStatsAddUpWhenAHandlerUnsubscribesItselfWhileCloseDrains
// holds a subscriber with a backlog, begins Close, and lets the handler
// go: on the first event after the plug (the first execution report:
// critical first) it unsubscribes itself. It gets nothing more, the rest
// is counted Discarded, Close returns without error, and every event
// published to it is counted once.
//
// Package dispatch: Unsubscribe "After Close it still ends, once, a
// subscription still delivering: ... one whose handler unsubscribes
// itself while Close drains it (it gets nothing more)"; SubscribeOptions
// .Handler "may call Unsubscribe (also for its own subscription) but not
// Close"; Close "lets every subscription deliver what it has queued
// (critical first, as always)".
func TestS38ctStatsAddUpWhenAHandlerUnsubscribesItselfWhileCloseDrains(t *testing.T) {
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	var (
		tally  s38ctTally
		subMu  sync.Mutex
		sub    *dispatch.Subscription
		unsubs = make(chan error, 1)
	)
	stall := newS35ctStalled(func(ev *schema.CanonicalEvent) {
		tally.handle(ev)
		if ev.Type == schema.EventExecReport {
			subMu.Lock()
			s := sub
			subMu.Unlock()
			select {
			case unsubs <- d.Unsubscribe(s):
			default: // a second call: the test fails on the count below
			}
		}
	})
	subMu.Lock()
	var err error
	sub, err = d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: stall.handle})
	subMu.Unlock()
	require.NoError(t, err)
	release := s38ctBacklog(t, d, pools, stall)
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
		defer cancel()
		closed <- d.Close(ctx)
	}()
	early := 0                          // reports published before Close began: queued too
	require.Eventually(t, func() bool { // Close has begun: Publish refuses
		err := d.Publish(context.Background(), s35ctEvent(t, pools, s38ctExec(99)))
		if err == nil {
			early++
		}
		return errors.Is(err, dispatch.ErrClosed)
	}, s27ctWait, time.Millisecond)
	release()
	select {
	case err := <-unsubs:
		require.NoError(t, err, "a handler unsubscribing itself while Close drains")
	case <-time.After(s27ctWait):
		t.Fatal("the handler never got the first report")
	}
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(s27ctWait):
		t.Fatal("Close never returned")
	}
	<-sub.Done()
	st := sub.Stats()
	got := tally.all()
	require.Len(t, got, 2, "the plug and the first report, nothing after Unsubscribe")
	assert.Equal(t, "o1", got[1].Exec.ClientOrderID.String(), "critical first")
	assert.Equal(t, uint64(2), st.Delivered, "%+v", st)
	assert.Equal(t, uint64(27), st.Coalesced, "%+v", st)
	assert.Equal(t, uint64(4+early+10+3), st.Discarded, "4 (+%d) reports, 10 trades, 3 quotes left: %+v", early, st)
	assert.Equal(t, uint64(1+10+30+5+early), st.Delivered+st.Coalesced+st.Dropped+st.Discarded, "every event once: %+v", st)
	ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
	defer cancel()
	require.NoError(t, pools.Shutdown(ctx))
}
