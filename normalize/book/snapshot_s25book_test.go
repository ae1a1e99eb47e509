package book

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// A snapshot that comes in the stream of a live book — a resubscription's
// answer, a venue's re-send (OKX "Order book channel": a new "snapshot"
// action; Kraken "book": a new snapshot after a resubscription) — replaces
// the book whole, whatever its ids: no level of the old book survives,
// and the diffs that follow chain from it.
func TestInStreamSnapshotReplaces(t *testing.T) {
	t.Run("okx lower seqId", func(t *testing.T) {
		x := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT", nil)
		x.feed(t,
			okxBook("snapshot", "BTC-USDT", [][2]string{{"100", "1"}, {"99", "1"}}, [][2]string{{"101", "1"}, {"102", "1"}}, 0, -1, 1000),
			okxBook("update", "BTC-USDT", [][2]string{{"98", "1"}}, nil, 0, 1000, 1001),
			okxBook("snapshot", "BTC-USDT", [][2]string{{"97", "2"}}, [][2]string{{"103", "2"}}, 0, -1, 10),
			okxBook("update", "BTC-USDT", [][2]string{{"97", "3"}}, nil, 0, 10, 11),
		)
		require.True(t, x.b.Live())
		var ev schema.CanonicalEvent
		x.b.Top(0, &ev)
		require.Len(t, ev.Book.Bids, 1)
		require.Len(t, ev.Book.Asks, 1)
		requireTop(t, x.b, [][2]string{{"97", "3"}}, [][2]string{{"103", "2"}})
		require.Empty(t, x.sink.ofType(schema.EventGap))
	})
	t.Run("kraken v1", func(t *testing.T) {
		x := newPipe(t, normalize.NewKraken, KrakenV1, "ETH-USD", nil)
		asks := [][2]string{{"2000.10", "1.000"}, {"2000.20", "1.000"}}
		bids := [][2]string{{"2000.00", "1.000"}, {"1999.00", "1.000"}}
		x.feed(t, fmt.Sprintf(`[7,{"as":%s,"bs":%s},"book-10","ETH/USD"]`, krV1Levels(asks), krV1Levels(bids)))
		asks2 := [][2]string{{"2000.30", "2.000"}}
		bids2 := [][2]string{{"1998.00", "2.000"}}
		x.feed(t, fmt.Sprintf(`[7,{"as":%s,"bs":%s},"book-10","ETH/USD"]`, krV1Levels(asks2), krV1Levels(bids2)))
		bids3 := [][2]string{{"1998.00", "3.000"}}
		x.feed(t, fmt.Sprintf(`[7,{"b":%s,"c":"%d"},"book-10","ETH/USD"]`, krV1Levels(bids3), krakenSum(asks2, bids3)))
		require.True(t, x.b.Live())
		require.Zero(t, x.b.Stats().ChecksumErrors)
		var ev schema.CanonicalEvent
		x.b.Top(0, &ev)
		require.Len(t, ev.Book.Bids, 1)
		require.Len(t, ev.Book.Asks, 1)
	})
	t.Run("kraken v2", func(t *testing.T) {
		x := newPipe(t, normalize.NewKraken, KrakenV2, "BTC-USD", nil)
		snap := func(bids, asks [][2]string) string {
			return fmt.Sprintf(`{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":%s,"asks":%s,"checksum":%d}]}`,
				krV2Levels(bids), krV2Levels(asks), krakenSum(padLevels(asks, 1, 8), padLevels(bids, 1, 8)))
		}
		x.feed(t,
			snap([][2]string{{"50000.1", "1.5"}, {"49999.9", "0.25"}}, [][2]string{{"50000.2", "2"}, {"50000.5", "3.12345678"}}),
			snap([][2]string{{"49000.1", "1.25"}}, [][2]string{{"51000.2", "2.5"}}),
		)
		require.True(t, x.b.Live())
		require.Zero(t, x.b.Stats().ChecksumErrors)
		var ev schema.CanonicalEvent
		x.b.Top(0, &ev)
		require.Len(t, ev.Book.Bids, 1)
		require.Len(t, ev.Book.Asks, 1)
		requireTop(t, x.b, [][2]string{{"49000.1", "1.25"}}, [][2]string{{"51000.2", "2.5"}})
	})
}
