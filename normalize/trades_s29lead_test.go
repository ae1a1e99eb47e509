package normalize

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A trade stamped far in the future (a venue's bad clock) must not stop
// the repeat rule from seeing a restart of the venue's trade ids for good,
// and the far-future trade sent again is still a repeat. Before the fix the
// mark kept the latest time ever delivered (2100), so every trade of the
// restarted numbering was dropped as a repeat, silently, for ever.
func TestS29FutureTradeDoesNotSilenceARestart(t *testing.T) {
	base := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	far := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	cases := []struct {
		name string
		// each trade: id, venue ms, receive offset from base
		trades [][3]int64
		want   []uint64
	}{
		{"restart right after the future trade", [][3]int64{
			{100, base.UnixMilli(), 0}, {101, far, 1}, // the venue's clock jumps once
			{1, base.UnixMilli() + 10, 10 * int64(time.Millisecond)}, {2, base.UnixMilli() + 11, 11 * int64(time.Millisecond)},
		}, []uint64{100, 101, 1, 2}},
		{"the future trade sent again is a repeat", [][3]int64{
			{100, base.UnixMilli(), 0}, {101, far, 1}, {102, base.UnixMilli() + 2, 2},
			{101, far, 3}, {103, base.UnixMilli() + 4, 4},
		}, []uint64{100, 101, 102, 103}},
		{"a restart after a later ordinary trade", [][3]int64{
			{100, base.UnixMilli(), 0}, {101, far, 1}, {102, base.UnixMilli() + 2, 2},
			{1, base.UnixMilli() + 10, 3}, {2, base.UnixMilli() + 11, 4},
		}, []uint64{100, 101, 102, 1, 2}},
		{"ordinary repeats still dropped", [][3]int64{
			{100, base.UnixMilli(), 0}, {101, base.UnixMilli() + 1, 1}, {100, base.UnixMilli(), 2}, {101, base.UnixMilli() + 1, 3}, {102, base.UnixMilli() + 2, 4},
		}, []uint64{100, 101, 102}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, sink, _ := newRecParser(t, nil)
			for _, tr := range tc.trades {
				m := fmt.Sprintf(`{"e":"trade","E":%d,"s":"BTCUSDT","t":%d,"p":"1.00","q":"2","T":%d,"m":true}`, tr[1], tr[0], tr[1])
				ingest := base.UnixNano() + tr[2]
				require.NoError(t, p.HandleBytes(context.Background(), []byte(m), ingest))
			}
			var got []uint64
			for _, ev := range sink.got {
				if ev.Type == schema.EventTrade {
					got = append(got, ev.SeqProvider)
				}
			}
			require.Equal(t, tc.want, got)
		})
	}
}
