package normalize

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// krV2Snapshot is a v2 book snapshot of BTC/USD with n levels a side.
func krV2Snapshot(n int) string {
	var bids, asks []string
	for i := range n {
		bids = append(bids, fmt.Sprintf(`{"price":%d.0,"qty":1}`, 50000-i))
		asks = append(asks, fmt.Sprintf(`{"price":%d.1,"qty":1}`, 50001+i))
	}
	return `{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[` + strings.Join(bids, ",") +
		`],"asks":[` + strings.Join(asks, ",") + `],"checksum":1}]}`
}

const krV2Update = `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[{"price":50000.5,"qty":1}],"checksum":1,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`

func krV2Ack(depth int) string {
	return fmt.Sprintf(`{"method":"subscribe","req_id":1,"result":{"channel":"book","depth":%d,"snapshot":true,"symbol":"BTC/USD"},"success":true}`, depth)
}

// A Kraken v2 book message does not name its depth; the parser learned it
// only from the subscription's ack, so a book whose ack it did not see (or
// not yet: a snapshot before it) had Depth 0 and kept levels pushed out
// of the view. "On subscription, a snapshot is published at the specified
// depth" (Kraken WebSocket "Book"): without an ack, a snapshot holding an
// offered depth exactly names it; a thinner one names none. Failed before
// the fix (Depth 0 on the no-ack cases of 10, 25 and 100 levels).
func TestS30KrakenV2DepthFromSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name  string
		msgs  []string
		depth int // of the last message (an update)
	}{
		{"no ack, 10 levels", []string{krV2Snapshot(10), krV2Update}, 10},
		{"no ack, thin book: not said", []string{krV2Snapshot(7), krV2Update}, 0},
		{"no ack, 25 levels", []string{krV2Snapshot(25), krV2Update}, 25},
		{"no ack, 26 levels: not said", []string{krV2Snapshot(26), krV2Update}, 0},
		{"no ack, 100 levels", []string{krV2Snapshot(100), krV2Update}, 100},
		{"snapshot before its ack", []string{krV2Snapshot(10), krV2Ack(25), krV2Update}, 25},
		{"ack wins over a thin snapshot", []string{krV2Ack(100), krV2Snapshot(30), krV2Update}, 100},
		{"a snapshot deeper than the ack", []string{krV2Ack(10), krV2Snapshot(25), krV2Update}, 25},
		{"unsubscribed, resubscribed without ack", []string{krV2Ack(100), strings.Replace(krV2Ack(100), `"subscribe"`, `"unsubscribe"`, 1), krV2Snapshot(10), krV2Update}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := NewKraken(events, sink, nil)
			for _, m := range tc.msgs {
				require.NoError(t, p.HandleBytes(context.Background(), []byte(m), 1), m)
			}
			last := sink.got[len(sink.got)-1]
			require.Equal(t, schema.EventBookUpdate, last.Type)
			require.Equal(t, tc.depth, last.Book.Depth)
			require.Zero(t, events.Stats().InUse)
		})
	}
}
