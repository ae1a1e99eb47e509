package dispatch_test

// Adversarial tests, third round, written from the package documentation
// and the exported API only (package dispatch_test): what a stream is to
// coalescing and to gap markers, the exactness of a marker's count, and
// the API's refusals.

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

const adv3Venue = schema.VenueBybit

func adv3Pool(capacity int) *pool.Pool[*schema.CanonicalEvent] {
	return pool.New("adv3-events", capacity, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
}

// adv3CloseReleasing starts Close on its own goroutine; once Close has
// begun (Subscribe answers ErrClosed) it opens gate, where s's handler
// waits, and returns when s has ended. Close's result comes on the channel.
func adv3CloseReleasing(t *testing.T, d *dispatch.Dispatcher, gate chan struct{}, s *dispatch.Subscription) <-chan error {
	t.Helper()
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		closed <- d.Close(ctx)
	}()
	require.Eventually(t, func() bool {
		_, err := d.Subscribe(dispatch.Filter{}, nil)
		return errors.Is(err, dispatch.ErrClosed)
	}, 20*time.Second, time.Millisecond, "Close began")
	close(gate)
	select {
	case <-s.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("subscription did not end")
	}
	return closed
}

// adv3Gate is a handler that records what it gets and blocks every call
// until let through: the subscriber stalls on its first event while the
// test queues more.
type adv3Gate struct {
	mu      sync.Mutex
	got     []*schema.CanonicalEvent
	entered chan struct{}
	gate    chan struct{}
}

func newAdv3Gate() *adv3Gate {
	return &adv3Gate{entered: make(chan struct{}, 1<<16), gate: make(chan struct{})}
}

func (g *adv3Gate) handle(ev *schema.CanonicalEvent) {
	g.entered <- struct{}{}
	<-g.gate
	g.mu.Lock()
	g.got = append(g.got, ev)
	g.mu.Unlock()
}

func (g *adv3Gate) events() []*schema.CanonicalEvent {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]*schema.CanonicalEvent(nil), g.got...)
}

func (g *adv3Gate) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("handler not called")
	}
}

// adv3Stalled subscribes a gated handler to everything and parks it inside
// the handler with a control event, so that what is published next waits
// in the subscription's queues.
func adv3Stalled(t *testing.T, d *dispatch.Dispatcher, p *pool.Pool[*schema.CanonicalEvent], opts dispatch.SubscribeOptions) (*adv3Gate, *dispatch.Subscription) {
	t.Helper()
	g := newAdv3Gate()
	opts.Handler = g.handle
	s, err := d.Subscribe(dispatch.Filter{}, &opts)
	require.NoError(t, err)
	adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Type, ev.UseControl().Kind = adv3Venue, schema.EventControl, schema.ControlStatus
	})
	g.waitEntered(t)
	return g, s
}

func adv3Publish(t *testing.T, d *dispatch.Dispatcher, p *pool.Pool[*schema.CanonicalEvent], fill func(*schema.CanonicalEvent)) {
	t.Helper()
	ev, err := p.TryGet()
	require.NoError(t, err)
	fill(ev)
	require.NoError(t, d.Publish(context.Background(), ev))
}

func adv3Close(t *testing.T, d *dispatch.Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, d.Close(ctx))
}

// A live kline of each interval is a stream of its own (Binance
// <symbol>@kline_1m and @kline_1h on one connection): latest-wins must
// keep the latest of each, "always the latest in the end", not let one
// interval's candle replace the other's.
func TestAdversarial3KlineIntervalsCoalesceApart(t *testing.T) {
	t.Parallel()
	p := adv3Pool(16)
	d := dispatch.New(p, nil)
	g, _ := adv3Stalled(t, d, p, dispatch.SubscribeOptions{})
	kline := func(interval string, close int64) {
		adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventKlineLive
			ev.UseKline().Interval, ev.UseKline().Close = interval, schema.NewDecimal(close, 0)
		})
	}
	kline("1m", 100)
	kline("1h", 200)
	kline("1m", 101)
	kline("1h", 201)
	kline("1m", 102)
	close(g.gate)
	adv3Close(t, d)

	latest := map[string]int64{}
	for _, ev := range g.events() {
		if ev.Type == schema.EventKlineLive {
			latest[ev.Kline.Interval] = ev.Kline.Close.Mantissa()
		}
	}
	require.Equal(t, map[string]int64{"1m": 102, "1h": 201}, latest,
		"the latest candle of every interval must reach a slow subscriber")
}

// Two depth views of one symbol's book (Bybit orderbook.50 and
// orderbook.200, each with its own update ids) are two streams. A
// subscriber that falls behind on both must be told, per view, what it
// lost: the marker names the view (schema.Book.Depth: "on a gap marker it
// names the view that lost messages") and a sequence range of that view
// alone, never one running from one view's ids into the other's.
func TestAdversarial3BookViewsGetMarkersOfTheirOwn(t *testing.T) {
	t.Parallel()
	p := adv3Pool(32)
	d := dispatch.New(p, nil)
	g, s := adv3Stalled(t, d, p, dispatch.SubscribeOptions{OrderedBound: 2})
	diff := func(depth int, id uint64) {
		adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type = adv3Venue, "BTC-USDT", schema.EventBookUpdate
			ev.Book.Depth, ev.Book.FirstSeq, ev.Book.LastSeq = depth, id, id
		})
	}
	// depth 50 ids 1000.., depth 200 ids 5000..; interleaved.
	diff(50, 1000)
	diff(200, 5000)
	diff(50, 1001) // drops 50/1000
	diff(200, 5001)
	diff(50, 1002)
	diff(200, 5002)
	st := s.Stats()
	require.Equal(t, uint64(4), st.Dropped)
	close(g.gate)
	adv3Close(t, d)

	type loss struct {
		count       uint64
		first, last uint64
	}
	marks := map[int]loss{}
	delivered := map[int][]uint64{}
	for _, ev := range g.events() {
		switch ev.Type {
		case schema.EventGap:
			require.Equal(t, schema.GapSubscriberQueue, ev.Control.GapSource)
			l := marks[ev.Book.Depth]
			l.count += ev.Control.GapCount
			if l.first == 0 {
				l.first = ev.Control.GapFirstSeq
			}
			l.last = ev.Control.GapLastSeq
			marks[ev.Book.Depth] = l
			if ev.Control.GapFirstSeq != 0 {
				// A range known is a range of one view's ids.
				same := (ev.Control.GapFirstSeq >= 5000) == (ev.Control.GapLastSeq >= 5000)
				require.True(t, same, "marker range %d..%d mixes two views' ids", ev.Control.GapFirstSeq, ev.Control.GapLastSeq)
			}
		case schema.EventBookUpdate:
			delivered[ev.Book.Depth] = append(delivered[ev.Book.Depth], ev.Book.LastSeq)
		}
	}
	require.Equal(t, map[int][]uint64{50: {1002}, 200: {5002}}, delivered)
	require.Equal(t, map[int]loss{50: {2, 1000, 1001}, 200: {2, 5000, 5001}}, marks,
		"each view's marker names its depth, its count and its own id range")
}

// The closed klines of two intervals are two ordered streams too: drops of
// one are not reported as drops of the other.
func TestAdversarial3ClosedKlineMarkersNameTheInterval(t *testing.T) {
	t.Parallel()
	p := adv3Pool(32)
	d := dispatch.New(p, nil)
	g, _ := adv3Stalled(t, d, p, dispatch.SubscribeOptions{OrderedBound: 1})
	kline := func(interval string, seq uint64) {
		adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "ETH-USDT", schema.EventKlineClosed, seq
			ev.UseKline().Interval, ev.UseKline().Closed = interval, true
		})
	}
	kline("1m", 1)
	kline("1h", 2) // drops 1m/1
	kline("1m", 3) // drops 1h/2
	close(g.gate)
	adv3Close(t, d)
	var gaps []string
	for _, ev := range g.events() {
		if ev.Type == schema.EventGap {
			gaps = append(gaps, ev.Kline.Interval)
		}
	}
	require.ElementsMatch(t, []string{"1m", "1h"}, gaps, "one marker per interval that lost a candle, naming it")
}

// GapCount 0 means "unknown". A venue's marker of unknown count that the
// subscriber's queue displaces and merges with its own drops must not come
// out claiming an exact count: unknown plus some is still unknown.
func TestAdversarial3UnknownVenueCountStaysUnknown(t *testing.T) {
	t.Parallel()
	trade := func(seq uint64) func(*schema.CanonicalEvent) {
		return func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = adv3Venue, "BTC-USDT", schema.EventTrade, seq
		}
	}
	venueMarker := func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = adv3Venue, "BTC-USDT", schema.EventGap
		ev.Control = &schema.Control{Kind: schema.ControlGap, GapType: schema.EventTrade} // count unknown
	}
	for _, tc := range []struct {
		name string
		pubs []func(*schema.CanonicalEvent)
	}{
		// The venue's marker reaches the front of the full lane, is
		// displaced, and a later drop merges into it.
		{"queue drops into the venue's marker", []func(*schema.CanonicalEvent){venueMarker, trade(10), trade(11), trade(12), trade(13)}},
		// A queue marker waits; then the venue's marker is displaced into it.
		{"venue's marker into the queue's", []func(*schema.CanonicalEvent){trade(1), trade(2), venueMarker, trade(10), trade(11)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := adv3Pool(16)
			d := dispatch.New(p, nil)
			g, _ := adv3Stalled(t, d, p, dispatch.SubscribeOptions{OrderedBound: 2})
			for _, f := range tc.pubs {
				adv3Publish(t, d, p, f)
			}
			close(g.gate)
			adv3Close(t, d)
			var gaps []schema.Control
			for _, ev := range g.events() {
				if ev.Type == schema.EventGap {
					require.NotNil(t, ev.Control, "a gap marker carries Control")
					gaps = append(gaps, *ev.Control)
				}
			}
			require.Len(t, gaps, 1)
			require.Equal(t, schema.GapVenue, gaps[0].GapSource)
			require.Zero(t, gaps[0].GapCount, "a count that includes an unknown one is unknown (0), not %d", gaps[0].GapCount)
		})
	}
}

// Unsubscribe of something not subscribed here returns
// ErrUnknownSubscription — nil included, before and after Close.
func TestAdversarial3UnsubscribeNil(t *testing.T) {
	t.Parallel()
	d := dispatch.New(adv3Pool(1), nil)
	require.ErrorIs(t, d.Unsubscribe(nil), dispatch.ErrUnknownSubscription)
	require.ErrorIs(t, d.UnsubscribeMerged(nil), dispatch.ErrUnknownSubscription)
	adv3Close(t, d)
	require.NotPanics(t, func() {
		require.ErrorIs(t, d.Unsubscribe(nil), dispatch.ErrUnknownSubscription)
		require.ErrorIs(t, d.UnsubscribeMerged(nil), dispatch.ErrUnknownSubscription)
	})
}

// A handler that ends its goroutine with runtime.Goexit ends its
// subscription "as Unsubscribe would: what is queued is released" — and
// counted in Stats.Discarded — also while Close is draining it; its
// Stats do not go on showing events queued for a goroutine that is gone.
func TestAdversarial3GoexitWhileCloseDrains(t *testing.T) {
	t.Parallel()
	p := adv3Pool(8)
	d := dispatch.New(p, nil)
	entered, gate := make(chan struct{}, 8), make(chan struct{})
	s, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		entered <- struct{}{}
		<-gate
		runtime.Goexit()
	}})
	require.NoError(t, err)
	exec := func(seq uint64) {
		adv3Publish(t, d, p, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = adv3Venue, "BTC-USDT", schema.EventExecReport, seq
		})
	}
	exec(1)
	<-entered
	exec(2)
	exec(3)
	closed := adv3CloseReleasing(t, d, gate, s)
	require.NoError(t, <-closed, "Close waited for what was left to be released")
	st := s.Stats()
	require.Zero(t, st.Depth, "nothing is queued for a goroutine that is gone: %+v", st)
	require.Equal(t, uint64(2), st.Discarded, "the two reports it never got are counted released: %+v", st)
}
