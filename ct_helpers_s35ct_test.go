package meltica_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s35ctClock is an injected clock for merge.Options.Now, moved by hand.
type s35ctClock struct {
	mu  sync.Mutex
	now time.Time
}

func newS35ctClock() *s35ctClock {
	return &s35ctClock{now: time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)}
}

func (c *s35ctClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *s35ctClock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// s35ctViews is a merge.Sink keeping a copy of every merged event it is
// given and returning the original to its pool.
type s35ctViews struct {
	mu     sync.Mutex
	merged *pool.Pool[*schema.MergedEvent]
	got    []*schema.MergedEvent
}

func (v *s35ctViews) PublishMerged(_ context.Context, m *schema.MergedEvent) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.got = append(v.got, m.Clone())
	v.merged.Put(m)
	return nil
}

func (v *s35ctViews) all() []*schema.MergedEvent {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]*schema.MergedEvent(nil), v.got...)
}

func (v *s35ctViews) last(t *testing.T) *schema.MergedEvent {
	t.Helper()
	all := v.all()
	require.NotEmpty(t, all)
	return all[len(all)-1]
}

// s35ctEvent takes an event from the dispatcher's pool (as a parser does)
// and lets fill write it.
func s35ctEvent(t *testing.T, pools *schema.Pools, fill func(ev *schema.CanonicalEvent)) *schema.CanonicalEvent {
	t.Helper()
	ev, err := pools.Events.TryGet()
	require.NoError(t, err)
	fill(ev)
	return ev
}

// s35ctBBO fills a best bid/offer of symbol on venue at time at (its
// ExchangeTS and IngestTS), quantity 1 a side.
func s35ctBBO(venue schema.Venue, symbol, bid, ask string, at time.Time) func(*schema.CanonicalEvent) {
	return func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type, ev.ExchangeTS, ev.IngestTS = venue, symbol, schema.EventBBO, at.UnixNano(), at.UnixNano()
		ev.BBO.BidPrice, ev.BBO.BidQty = schema.MustParseDecimal(bid), schema.MustParseDecimal("1")
		ev.BBO.AskPrice, ev.BBO.AskQty = schema.MustParseDecimal(ask), schema.MustParseDecimal("1")
	}
}

// s35ctConn fills a connection state of venue at time at.
func s35ctConn(venue schema.Venue, state schema.ConnState, at time.Time) func(*schema.CanonicalEvent) {
	return func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Type, ev.IngestTS = venue, schema.EventConnState, at.UnixNano()
		*ev.UseControl() = schema.Control{Kind: schema.ControlConnState, State: state}
	}
}

// s35ctStalled is a dispatch handler that can be held inside a call, so
// that what is published meanwhile waits in the subscription's queues as
// it does behind a slow host.
type s35ctStalled struct {
	mu      sync.Mutex // held by the test while the handler must wait
	entered chan struct{}
	next    func(*schema.CanonicalEvent)
}

func newS35ctStalled(next func(*schema.CanonicalEvent)) *s35ctStalled {
	return &s35ctStalled{entered: make(chan struct{}, 1), next: next}
}

func (s *s35ctStalled) handle(ev *schema.CanonicalEvent) {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	s.mu.Lock()
	s.mu.Unlock() //nolint:staticcheck // an empty critical section: the wait is the point
	s.next(ev)
}

// hold publishes plug and returns once the handler is inside its call
// with it, held until the returned func is called.
func (s *s35ctStalled) hold(t *testing.T, d *dispatch.Dispatcher, plug *schema.CanonicalEvent) (release func()) {
	t.Helper()
	s.mu.Lock()
	select { // forget an earlier entry
	case <-s.entered:
	default:
	}
	require.NoError(t, d.Publish(context.Background(), plug))
	select {
	case <-s.entered:
	case <-time.After(s27ctWait):
		s.mu.Unlock()
		t.Fatal("the handler never took the plug")
	}
	return s.mu.Unlock
}

// s35ctIdle waits until sub has delivered everything queued.
func s35ctIdle(t *testing.T, sub *dispatch.Subscription) {
	t.Helper()
	require.Eventually(t, sub.Idle, s27ctWait, time.Millisecond, "the subscription never caught up: %+v", sub.Stats())
}
