package meltica_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s25ctChanSink hands every event to the test on a channel.
type s25ctChanSink chan *schema.CanonicalEvent

func (s s25ctChanSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s <- ev
	return nil
}

// normalize/doc.go, "Pool exhaustion", and contract 3 ("not on a full
// pool"): an execution report waits for the event pool (with the caller's
// ctx) and is never dropped; a trade does not wait: it is replaced by a
// gap marker naming the lost trade, and the error matches ErrDropped. The
// pool here has two events, both held by the host.
func TestS25ctExhaustedPool(t *testing.T) {
	ctx := context.Background()
	events := pool.New("events", 2, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	held := []*schema.CanonicalEvent{}
	for range 2 {
		ev, err := events.Get(ctx)
		require.NoError(t, err)
		held = append(held, ev)
	}
	sink := make(s25ctChanSink, 16)
	p := normalize.NewBinance(events, sink, nil)
	msgs, _ := s25ctStream(10) // trade 1, quote 1, …, trade 10, quote 10, report 10

	// A report on an exhausted pool waits, then goes out.
	var wg sync.WaitGroup
	done := make(chan error, 1)
	wg.Add(1)
	go func() { defer wg.Done(); done <- p.HandleBytes(ctx, msgs[len(msgs)-2], 1) }()
	require.Eventually(t, func() bool { return events.Stats().Waits > 0 }, time.Minute, time.Millisecond, "the report waits for an event")
	select {
	case err := <-done:
		t.Fatalf("the report did not wait for the pool: %v", err)
	default:
	}
	events.Put(held[1])
	held = held[:1]
	require.NoError(t, <-done)
	ev := <-sink
	assert.Equal(t, schema.EventExecReport, ev.Type, "the report, not dropped")
	events.Put(ev)
	wg.Wait()

	// Exhausted again: a trade is dropped, announced by a gap marker.
	ev, err := events.Get(ctx)
	require.NoError(t, err)
	held = append(held, ev)
	waits := events.Stats().Waits
	errs := make(chan error, 1)
	go func() { errs <- p.HandleBytes(ctx, msgs[0], 1) }() // trade t=1
	// The trade is not waited for; its gap marker, critical, is (the
	// doc: "control and gap events wait for the event pool").
	require.Eventually(t, func() bool { return events.Stats().Waits > waits }, time.Minute, time.Millisecond, "the marker waits for an event")
	select {
	case got := <-sink:
		t.Fatalf("published on an exhausted pool: %v", got.Type)
	default:
	}
	events.Put(held[1])
	held = held[:1]
	got := <-sink
	assert.ErrorIs(t, <-errs, normalize.ErrDropped)
	require.Equal(t, schema.EventGap, got.Type, "a gap marker for the lost trade")
	assert.Equal(t, schema.EventTrade, got.Control.GapType)
	t.Logf("marker: %+v", got.Control)
	events.Put(got)
	for _, h := range held {
		events.Put(h)
	}
	require.NoError(t, events.Shutdown(ctx))
}

// Contract 4: market data is "never silently stale (a gap or stale marker
// whenever data was dropped)". A best bid/offer dropped on an exhausted
// pool (normalize: "coalescable events ... are dropped and counted")
// leaves the subscriber holding the quote before it as the current one;
// unless a newer quote comes, nothing tells it that the venue moved. The
// subscriber must hear of the loss: a gap marker about the stream
// (GapType EventBBO), once the pool has room — before the call returns or
// with the next message of any stream.
func TestS25ctDroppedQuoteIsAnnounced(t *testing.T) {
	ctx := context.Background()
	events := pool.New("events", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	sink := make(s25ctChanSink, 16)
	p := normalize.NewBinance(events, sink, nil)
	msgs, _ := s25ctStream(10) // trade 1, quote 1, trade 2, quote 2, …
	require.NoError(t, p.HandleBytes(ctx, msgs[1], 1))
	first := <-sink
	require.Equal(t, schema.EventBBO, first.Type)
	// The host still holds quote 1 (the pool's only event): quote 2 drops.
	assert.ErrorIs(t, p.HandleBytes(ctx, msgs[3], 2), normalize.ErrDropped)
	events.Put(first)
	// Another stream's message: the parser may announce the loss now.
	other := []byte(`{"u":5,"s":"ETHUSDT","b":"1.00","B":"1","a":"1.01","A":"2"}`)
	// s25gap: the pool has one event, and the sink keeps what it gets: the
	// marker and the ETH quote cannot both go out. The announcement goes
	// first (normalize/doc.go, "Pool exhaustion"): the ETH quote is dropped,
	// ErrDropped, and its own stream marked in turn.
	if err := p.HandleBytes(ctx, other, 3); err != nil { // the sink has room: it never blocks
		require.ErrorIs(t, err, normalize.ErrDropped)
	}
	announced := false
	for len(sink) > 0 {
		ev := <-sink
		if ev.Type == schema.EventGap && ev.Symbol == "BTC-USDT" && (ev.Control.GapType == schema.EventBBO || ev.Control.GapType == schema.EventUnknown) {
			announced = true
		}
		events.Put(ev)
	}
	assert.True(t, announced, "the dropped BTC-USDT quote is announced")
	require.NoError(t, events.Shutdown(ctx))
}
