package book

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
)

// Binance "How to manage a local order book correctly": the diff stream
// covers the whole book, the REST snapshot its best Limit levels a side,
// and "you won't learn the quantities for the levels outside of the
// initial snapshot unless they change". A fetched book neither serves a
// level beyond its snapshot's range (Top) nor keeps its top there (it
// resyncs, ReasonRange), so such a level can never be read: kept, every
// price the venue ever touched far from the top stayed in the book for
// as long as it lived — memory without bound, and an insertion at the far
// end of a side moves the whole side. The book keeps none of them.
func TestBinanceLevelsBeyondSnapshotRangeNotKept(t *testing.T) {
	snaps := &binanceSnapshots{bodies: []string{
		`{"lastUpdateId":10,"bids":[["100","1"],["99","1"]],"asks":[["101","1"],["102","1"]]}`,
	}}
	x := newPipe(t, normalize.NewBinance, Binance, "BTC-USDT", &Options{Fetcher: snaps})
	const n = 2000
	for i := range n {
		u := int64(11 + i)
		far := strconv.Itoa(i)
		x.feed(t, binanceDiff("BTCUSDT", u, u, -1,
			[][2]string{{"1." + far, "3"}}, [][2]string{{"1000" + far, "3"}}))
	}
	require.True(t, x.b.Live())
	require.Equal(t, uint64(n), x.b.Stats().Applied)
	x.b.mu.Lock()
	nb, na := x.b.bids.len(), x.b.asks.len()
	x.b.mu.Unlock()
	require.Equal(t, 2, nb, "bids beyond the snapshot's range were kept")
	require.Equal(t, 2, na, "asks beyond the snapshot's range were kept")
	requireTop(t, x.b, [][2]string{{"100", "1"}, {"99", "1"}}, [][2]string{{"101", "1"}, {"102", "1"}})

	// A level inside the range is still applied, at the range's edge too.
	x.feed(t, binanceDiff("BTCUSDT", 11+n, 11+n, -1, [][2]string{{"99.5", "2"}, {"99", "4"}}, [][2]string{{"102", "0"}}))
	require.True(t, x.b.Live())
	requireTop(t, x.b, [][2]string{{"100", "1"}, {"99.5", "2"}, {"99", "4"}}, [][2]string{{"101", "1"}})
}
