package book

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// Bybit v5 "Orderbook", Process snapshot/delta: "If you receive a new
// snapshot message, you will have to reset your local orderbook. If there
// is a problem on Bybit's end, a snapshot will be re-sent, which is
// guaranteed to contain the latest data", and "Linear & inverse level 1
// data: if 3 seconds have elapsed without a change in the orderbook, a
// snapshot message will be pushed again, and the field u will be the same
// as that in the previous message". Every snapshot replaces the book,
// whatever its u — the same u, a lower one, a higher one — with no gap
// marker and no resubscription, and the deltas chain on from its u.
func TestBybitEverySnapshotReplaces(t *testing.T) {
	for _, tc := range []struct {
		name  string
		depth int
		u     int64 // the re-sent snapshot's u, after 500 and 501
	}{
		{"level 1, same u", 1, 501},
		{"level 50, same u", 50, 501},
		{"level 50, lower u", 50, 400},
		{"level 50, higher u", 50, 700},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rule, err := Bybit.WithDepth(tc.depth)
			require.NoError(t, err)
			x := newPipe(t, normalize.NewBybit, rule, "BTC-USDT", nil)
			x.feed(t,
				bybitBook("snapshot", "BTCUSDT", tc.depth, 500, 9000, [][2]string{{"100.0", "1"}}, [][2]string{{"101.0", "1"}}),
				bybitBook("delta", "BTCUSDT", tc.depth, 501, 9001, [][2]string{{"100.0", "5"}}, nil),
				bybitBook("snapshot", "BTCUSDT", tc.depth, tc.u, 9100, [][2]string{{"99.5", "2"}}, [][2]string{{"100.5", "2"}}),
			)
			require.True(t, x.b.Live())
			requireTop(t, x.b, [][2]string{{"99.5", "2"}}, [][2]string{{"100.5", "2"}})
			var ev schema.CanonicalEvent
			x.b.Top(0, &ev)
			require.Len(t, ev.Book.Bids, 1, "a level of the old book survived the snapshot")
			x.feed(t, bybitBook("delta", "BTCUSDT", tc.depth, tc.u+1, 9101, nil, [][2]string{{"100.5", "3"}}))
			require.True(t, x.b.Live())
			requireTop(t, x.b, nil, [][2]string{{"100.5", "3"}})
			require.Empty(t, x.markers())
			require.Empty(t, x.sink.ofType(schema.EventGap), "the parser marked a gap for a snapshot")
			require.Zero(t, x.resubs)
		})
	}
}

// Bybit "Full Orderbook" (u = 1 scenarios) and "Orderbook": a symbol
// delisted or before its auction sends u = 1 with empty sides. The book
// empties (no level of the old book survives) and withdraws its best
// bid/offer; it is not a fault.
func TestBybitRestartEmptyBook(t *testing.T) {
	x := newPipe(t, normalize.NewBybit, Bybit, "BTC-USDT", nil)
	x.feed(t,
		bybitBook("snapshot", "BTCUSDT", 50, 500, 9000, [][2]string{{"100.0", "1"}}, [][2]string{{"101.0", "1"}}),
		bybitBook("delta", "BTCUSDT", 50, 1, 9001, nil, nil),
	)
	var ev schema.CanonicalEvent
	x.b.Top(0, &ev)
	require.Empty(t, ev.Book.Bids)
	require.Empty(t, ev.Book.Asks)
	q, _ := x.b.BBO()
	require.True(t, q.BidPrice.IsZero() && q.AskPrice.IsZero())
	bbos := x.sink.ofType(schema.EventBBO)
	require.NotEmpty(t, bbos)
	last := bbos[len(bbos)-1]
	require.True(t, last.BBO.BidPrice.IsZero() && last.BBO.AskPrice.IsZero(), "the last quote published is the old book's")
	require.Empty(t, x.markers())
}
