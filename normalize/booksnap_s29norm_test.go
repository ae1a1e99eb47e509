package normalize

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// bookStep is one book message and whether it must be delivered.
type bookStep struct {
	msg       string
	delivered bool
}

// S29: a book snapshot older than the book stream's position (a lower
// update id at a time strictly before the last message delivered: an
// unaligned rotation's or a reconnection's overlap) restarted the book at
// the older state — a book top served older than one delivered (contract
// 4), then the diffs after it delivered twice. Bybit v5 "Orderbook":
// level 1 is pushed as snapshots only, "u" the symbol's update id, and a
// snapshot repeated after 3 s unchanged keeps its "u"; "u" = 1 is the
// service's restart (a later "ts"). OKX v5 "Order book channel": seqId
// per instrument, lower after a maintenance (a later "ts"). An older
// snapshot is dropped (Stats.Repeats), the stream keeps its position, and
// the diffs that follow are checked against it. Failed before the fix:
// the older snapshots were delivered.
func TestS29OlderBookSnapshotDropped(t *testing.T) {
	bybit := func(depth int, typ string, u, ms int) string {
		return fmt.Sprintf(`{"topic":"orderbook.%d.BTCUSDT","type":"%s","ts":%d,"data":{"s":"BTCUSDT","b":[["16493.60","0.006"]],"a":[["16494.00","1.2"]],"u":%d,"seq":7961638724},"cts":%d}`, depth, typ, ms, u, ms-2)
	}
	okx := func(action string, seq, prev, ms int) string {
		return fmt.Sprintf(`{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"%s","data":[{"asks":[["8476.98","415","0","13"]],"bids":[["8476.97","256","0","12"]],"ts":"%d","checksum":0,"seqId":%d,"prevSeqId":%d}]}`, action, ms, seq, prev)
	}
	for _, c := range []struct {
		name  string
		venue schema.Venue
		steps []bookStep
		gaps  int // gap markers expected
	}{
		{"bybit orderbook.1", schema.VenueBybit, []bookStep{
			{bybit(1, "snapshot", 105, 2000), true},
			{bybit(1, "snapshot", 100, 1995), false}, // older
			{bybit(1, "snapshot", 104, 2000), true},  // lower, the same time: maybe another update
			{bybit(1, "snapshot", 105, 5000), true},  // unchanged for 3 s: pushed again
			{bybit(1, "snapshot", 103, 1990), false}, // older
			{bybit(1, "snapshot", 106, 5010), true},
			{bybit(1, "snapshot", 1, 9000), true}, // the service restarted
			{bybit(1, "snapshot", 2, 9010), true},
		}, 0},
		{"bybit orderbook.50", schema.VenueBybit, []bookStep{
			{bybit(50, "snapshot", 100, 1000), true},
			{bybit(50, "delta", 101, 1001), true},
			{bybit(50, "delta", 102, 1002), true},
			{bybit(50, "delta", 103, 1003), true},
			{bybit(50, "snapshot", 101, 1001), false}, // the new connection's, older
			{bybit(50, "delta", 102, 1002), false},    // its diffs: repeats
			{bybit(50, "delta", 103, 1003), false},
			{bybit(50, "delta", 104, 1004), true},    // no gap
			{bybit(50, "snapshot", 104, 1004), true}, // at the position: a resubscription
			{bybit(50, "delta", 105, 1005), true},
		}, 0},
		// A stream that lost messages since its snapshot is broken: a
		// snapshot, even older, is what repairs it (delivered).
		{"bybit orderbook.50 after a gap", schema.VenueBybit, []bookStep{
			{bybit(50, "snapshot", 100, 1000), true},
			{bybit(50, "delta", 101, 1001), true},
			{bybit(50, "delta", 104, 1004), true}, // after a gap marker
			{bybit(50, "snapshot", 102, 1002), true},
			{bybit(50, "delta", 103, 1003), true},
			{bybit(50, "delta", 104, 1004), true},
			{bybit(50, "snapshot", 101, 1001), false}, // older, the stream whole
		}, 1},
		{"okx books", schema.VenueOKX, []bookStep{
			{okx("snapshot", 100, -1, 1000), true},
			{okx("update", 105, 100, 1001), true},
			{okx("update", 110, 105, 1002), true},
			{okx("snapshot", 105, -1, 1001), false}, // older
			{okx("update", 110, 105, 1002), false},  // repeat
			{okx("update", 115, 110, 1003), true},
			{okx("snapshot", 3, -1, 5000), true}, // after a maintenance: lower, later
			{okx("update", 4, 3, 5001), true},
		}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := newVenueParser(c.venue, events, sink)
			var want, got []string
			var gaps int
			for i, s := range c.steps {
				require.NoError(t, p.HandleBytes(context.Background(), []byte(s.msg), int64(i+1)))
				if s.delivered {
					want = append(want, fmt.Sprint(i))
				}
				for _, ev := range sink.got {
					if ev.Type == schema.EventGap {
						gaps++
						continue
					}
					got = append(got, fmt.Sprint(i))
				}
				sink.got = sink.got[:0]
			}
			require.Equal(t, want, got)
			require.Equal(t, c.gaps, gaps)
			require.Zero(t, p.Stats().Errors)
		})
	}
}

// A book message the parser replaced by a gap marker for an exhausted
// pool breaks its subscribers' book as a lost message does: a snapshot,
// even one older than the stream's position, is then delivered, since it
// repairs the book. Failed before the fix: dropped as an older snapshot.
func TestS29OlderBookSnapshotAfterPoolDrop(t *testing.T) {
	events := pool.New("tiny", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	var got []*schema.CanonicalEvent
	sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		got = append(got, ev.Clone())
		events.Put(ev)
		return nil
	})
	p := NewBybit(events, sink, nil)
	ctx := context.Background()
	book := func(typ string, u, ms int) []byte {
		return fmt.Appendf(nil, `{"topic":"orderbook.50.BTCUSDT","type":"%s","ts":%d,"data":{"s":"BTCUSDT","b":[["16493.60","0.006"]],"a":[["16494.00","1.2"]],"u":%d,"seq":1},"cts":%d}`, typ, ms, u, ms)
	}
	require.NoError(t, p.HandleBytes(ctx, book("snapshot", 100, 1000), 1))
	require.NoError(t, p.HandleBytes(ctx, book("delta", 101, 1001), 1))
	held, err := events.TryGet() // the host holds the only event
	require.NoError(t, err)
	done := make(chan error)
	go func() { done <- p.HandleBytes(ctx, book("delta", 102, 1002), 1) }()
	awaitPoolWait(t, events, done) // the gap marker waits for the pool
	events.Put(held)
	require.ErrorIs(t, <-done, ErrDropped)
	require.Len(t, got, 3)
	require.Equal(t, schema.EventGap, got[2].Type)
	require.NoError(t, p.HandleBytes(ctx, book("snapshot", 101, 1001), 1))
	require.Len(t, got, 4, "the snapshot that repairs the book was dropped")
	require.Equal(t, schema.EventBookSnapshot, got[3].Type)
}

// awaitPoolWait returns once a Get waits on events (polled), failing if
// done, the waiting call's result, comes first.
func awaitPoolWait(t *testing.T, events *pool.Pool[*schema.CanonicalEvent], done <-chan error) {
	t.Helper()
	for events.Stats().Waits == 0 {
		select {
		case err := <-done:
			t.Fatalf("returned without waiting for the pool: %v", err)
		default:
			runtime.Gosched()
		}
	}
}
