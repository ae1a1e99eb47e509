package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// Binance "How to manage a local order book correctly": "Since depth
// snapshots retrieved from the API have a limit on the number of price
// levels (5000 on each side maximum), you won't learn the quantities for
// the levels outside of the initial snapshot unless they change. So be
// careful when using the information for those levels, since they might
// not reflect the full view of the order book." Book.Top and
// Book.PublishTop serve a fetched book's levels down to its snapshot's
// range only: beyond it the book holds the levels that changed and lacks
// the ones that did not, so a top-N taken there shows holes as the book.
func TestBinanceTopStopsAtSnapshotRange(t *testing.T) {
	snaps := &binanceSnapshots{bodies: []string{
		`{"lastUpdateId":10,"bids":[["100","1"],["99","1"]],"asks":[["101","1"],["102","1"]]}`,
	}}
	x := newPipe(t, normalize.NewBinance, Binance, "BTC-USDT", &Options{Fetcher: snaps})
	// Levels that changed beyond the snapshot's range: the venue also has
	// 98 and 103, unchanged, which the book never saw.
	x.feed(t, binanceDiff("BTCUSDT", 11, 11, -1, [][2]string{{"97", "4"}}, [][2]string{{"104", "2"}}))
	require.True(t, x.b.Live())
	var ev schema.CanonicalEvent
	require.True(t, x.b.Top(10, &ev))
	require.Len(t, ev.Book.Bids, 2, "a bid beyond the snapshot's range was served as the book's third level")
	require.Len(t, ev.Book.Asks, 2, "an ask beyond the snapshot's range was served as the book's third level")
	require.True(t, x.b.Top(0, &ev))
	require.Len(t, ev.Book.Bids, 2)
	require.Len(t, ev.Book.Asks, 2)
	requireTop(t, x.b, [][2]string{{"100", "1"}, {"99", "1"}}, [][2]string{{"101", "1"}, {"102", "1"}})

	n := len(x.sink.ofType(schema.EventBookSnapshot))
	require.NoError(t, x.b.PublishTop(context.Background(), 10))
	tops := x.sink.ofType(schema.EventBookSnapshot)
	require.Len(t, tops, n+1)
	require.Len(t, tops[n].Book.Bids, 2)
	require.Len(t, tops[n].Book.Asks, 2)
}
