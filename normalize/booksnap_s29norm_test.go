package normalize

import (
	"context"
	"fmt"
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
		}},
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
		}},
		{"okx books", schema.VenueOKX, []bookStep{
			{okx("snapshot", 100, -1, 1000), true},
			{okx("update", 105, 100, 1001), true},
			{okx("update", 110, 105, 1002), true},
			{okx("snapshot", 105, -1, 1001), false}, // older
			{okx("update", 110, 105, 1002), false},  // repeat
			{okx("update", 115, 110, 1003), true},
			{okx("snapshot", 3, -1, 5000), true}, // after a maintenance: lower, later
			{okx("update", 4, 3, 5001), true},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := newVenueParser(c.venue, events, sink)
			var want, got []string
			for i, s := range c.steps {
				require.NoError(t, p.HandleBytes(context.Background(), []byte(s.msg), int64(i+1)))
				if s.delivered {
					want = append(want, fmt.Sprint(i))
				}
				for _, ev := range sink.got {
					require.NotEqual(t, schema.EventGap, ev.Type, "step %d: %s", i, ev.Control.Reason)
					got = append(got, fmt.Sprint(i))
				}
				sink.got = sink.got[:0]
			}
			require.Equal(t, want, got)
			require.Zero(t, p.Stats().Errors)
		})
	}
}
