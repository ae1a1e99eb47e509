package book

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// The silence marker waited up to StateTimeout for an exhausted pool with
// the book locked — the connection's reader and every reader of the book
// (Live, BBO) held that long — and then was given up for good: the
// subscribers of best bid/offers kept the silent book's last quote as the
// latest. It now takes its events without waiting and, on an exhausted
// pool, tries again RetryInterval later (on the Clock) while the book
// stays silent; a book that hears from its stream meanwhile owes nothing.
func TestS31SilenceMarkerOnExhaustedPoolRetries(t *testing.T) {
	clk, events, sink, b := newQuietBook(t, "s31-events")

	held := make([]*schema.CanonicalEvent, 0, 4)
	for range 4 {
		ev, err := events.TryGet()
		require.NoError(t, err)
		held = append(held, ev)
	}
	clk.step(5 * time.Second) // silent, on an exhausted pool: nothing waits, nothing is published
	require.False(t, b.Live())
	require.Equal(t, uint64(1), b.Stats().Silences)
	require.Empty(t, sink.ofType(schema.EventGap))
	require.Equal(t, 1, clk.pending(), "no retry armed: the marker was given up")

	events.Put(held[0]) // one event: enough for the marker and the withdrawal, one after the other (s34)
	clk.step(time.Second)
	require.Equal(t, int64(3), events.Stats().InUse, "the event taken for the marker went back")
	for _, ev := range held[1:] {
		events.Put(ev)
	}
	clk.step(time.Second)
	gaps := sink.ofType(schema.EventGap)
	require.Len(t, gaps, 1, "the marker owed was never published")
	require.Equal(t, ReasonSilent, gaps[0].Control.Reason)
	bbo := sink.ofType(schema.EventBBO)
	require.Len(t, bbo, 2)
	require.True(t, bbo[1].BBO.BidPrice.IsZero(), "the quote was not withdrawn")
	require.Equal(t, uint64(1), b.Stats().Silences, "one silence, one marker")
	clk.step(time.Minute)
	require.Len(t, sink.ofType(schema.EventGap), 1, "published twice")
	require.Zero(t, clk.pending())

	// Silent again on an exhausted pool, then the stream resumes: the
	// marker owed is moot (nothing was lost) and never goes out late.
	applyLive(t, b, okxRaw("books", "update", 10, 11, `["100","2","0","1"]`, ``, ""))
	for i := range held {
		ev, err := events.TryGet()
		require.NoError(t, err)
		held[i] = ev
	}
	clk.step(5 * time.Second)
	require.False(t, b.Live())
	for _, ev := range held {
		events.Put(ev)
	}
	applyLive(t, b, okxRaw("books", "update", 11, 12, `["100","3","0","1"]`, ``, ""))
	clk.step(time.Second)
	require.Len(t, sink.ofType(schema.EventGap), 1, "a silence marker after the stream resumed")
	require.True(t, b.Live())
	require.Zero(t, events.Stats().InUse)
}

// A pool shut down (the host closed its pipeline before the book) is not
// exhausted: the silence marker is given up, not tried for ever.
func TestS31SilenceMarkerOnClosedPoolGivesUp(t *testing.T) {
	clk := newStepClock()
	events := pool.New("s31-closed", 4, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	sink := &recSink{events: events}
	b, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events, MaxSilence: 5 * time.Second, Clock: clk})
	require.NoError(t, err)
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	require.NoError(t, events.Shutdown(t.Context()))
	clk.step(5 * time.Second)
	require.Equal(t, uint64(1), b.Stats().Silences)
	require.Zero(t, clk.pending(), "a retry armed on a closed pool")
}

// FuzzS31SilenceOnExhaustedPool drives an OKX book with MaxSilence through
// arbitrary runs of diffs, snapshots, gaps, clock steps and a pool
// exhausted and given back: nothing panics or waits, one timer at most is
// armed, a silent book reports not live, never more silence markers go
// out than silences, and every pooled event comes back.
func FuzzS31SilenceOnExhaustedPool(f *testing.F) {
	f.Add([]byte{0, 2, 1, 5, 3, 1, 1, 0, 1, 5})
	f.Add([]byte{0, 1, 5, 2, 1, 1, 0, 1, 5, 3, 1, 5})
	f.Add([]byte{0, 2, 1, 5, 4, 3, 0, 1, 5, 2, 0, 1, 5})
	f.Add([]byte{0, 2, 47, 3, 11, 11})    // silent on a held pool; given back: the marker owed goes out
	f.Add([]byte{0, 2, 47, 1, 3, 11, 47}) // the stream resumes first: nothing owed; silent again
	f.Add([]byte{0, 2, 47, 4, 3, 11})     // invalidated while the marker is owed
	f.Fuzz(func(t *testing.T, ops []byte) {
		clk := newStepClock()
		events := pool.New("s31-fuzz", 4, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
		sink := &recSink{events: events}
		b, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events, MaxSilence: 5 * time.Second, RetryInterval: time.Second, Clock: clk})
		require.NoError(t, err)
		defer b.Close()
		dead, cancel := context.WithCancel(context.Background())
		cancel() // a held pool fails the waits of invalidation markers at once
		var held []*schema.CanonicalEvent
		seq := int64(10)
		for i, op := range ops {
			ctx := context.Background()
			if len(held) > 0 {
				ctx = dead
			}
			switch op % 6 {
			case 0:
				_ = b.Apply(ctx, okxEvent(t, okxRaw("books", "snapshot", -1, uint64(seq), `["100","1","0","1"]`, `["101","1","0","1"]`, "")))
			case 1:
				_ = b.Apply(ctx, okxEvent(t, okxRaw("books", "update", seq, uint64(seq+1), fmt.Sprintf(`["100","%d","0","1"]`, i+1), ``, "")))
				seq++
			case 2:
				for {
					ev, err := events.TryGet()
					if err != nil {
						break
					}
					held = append(held, ev)
				}
			case 3:
				for _, ev := range held {
					events.Put(ev)
				}
				held = held[:0]
			case 4:
				_ = b.Apply(ctx, &schema.CanonicalEvent{Venue: schema.VenueOKX, Symbol: "BTC-USDT", Type: schema.EventGap,
					Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate}})
				seq += 5
			case 5: // 5 → 0 s, 11 → 1 s, … 47 → 7 s
				clk.step(time.Duration(op/6%8) * time.Second)
			}
			// One silence timer and one retry timer (armRetryLocked), never more.
			require.LessOrEqual(t, clk.pending(), 2)
			b.mu.Lock()
			silent := b.silent
			b.mu.Unlock()
			if silent {
				require.False(t, b.Live())
			}
			n := 0
			for _, g := range sink.ofType(schema.EventGap) {
				if g.Control.Reason == ReasonSilent {
					n++
				}
			}
			require.LessOrEqual(t, uint64(n), b.Stats().Silences)
		}
		for _, ev := range held {
			events.Put(ev)
		}
		require.Zero(t, events.Stats().InUse)
	})
}
