package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
)

// A snapshot the book did not fetch — one a host hands the parser
// (normalize.Parser.HandleSnapshot) with a REST limit of its own — says
// nothing of the limit it was taken with: the Fetcher's SnapshotDepth is
// about the Fetcher's snapshots. Its sides count as truncated (Binance
// "How to manage a local order book correctly": beyond a snapshot's
// levels "you won't learn the quantities … unless they change"): taken
// as whole because it held fewer levels than the Fetcher's Limit, the
// book served a bid it never saw as its best, live.
func TestBinanceHandedSnapshotKeepsItsRange(t *testing.T) {
	snaps := &binanceSnapshots{bodies: []string{
		`{"lastUpdateId":10,"bids":[["100","1"],["99","1"]],"asks":[["101","1"],["102","1"]]}`,
	}, depth: 1000}
	x := newPipe(t, normalize.NewBinance, Binance, "BTC-USDT", &Options{Fetcher: snaps})
	x.feed(t, binanceDiff("BTCUSDT", 11, 11, -1, nil, [][2]string{{"101", "2"}}))
	require.True(t, x.b.Live())
	// The host's own snapshot, limit 2: the venue has more bids below 99.
	require.NoError(t, x.p.HandleSnapshot(context.Background(), "BTCUSDT",
		[]byte(`{"lastUpdateId":20,"bids":[["100","1"],["99","1"]],"asks":[["101","1"],["102","1"]]}`), x.ts+1))
	x.ts++
	require.True(t, x.b.Live())
	// A bid below the snapshot's range changes, then both bids it held go:
	// the venue's best bid is now 98, which the book never saw.
	x.feed(t,
		binanceDiff("BTCUSDT", 21, 21, -1, [][2]string{{"97", "4"}}, nil),
		binanceDiff("BTCUSDT", 22, 22, -1, [][2]string{{"100", "0"}, {"99", "0"}}, nil),
	)
	require.False(t, x.b.Live(), "a best bid from beyond a handed snapshot's range was served as live")
	m := x.markers()
	require.NotEmpty(t, m)
	require.Equal(t, ReasonRange, m[len(m)-1].Control.Reason)
}

// A REST snapshot older than what a live fetched book has applied (a host
// hands the parser one it fetched while the stream went on) is stale: the
// book already holds every change it does, and more. Loaded, it rewound
// the book, whose next diff then read as a gap: a resync, a marker, a
// fetch, for nothing lost.
func TestBinanceLiveBookIgnoresOlderSnapshot(t *testing.T) {
	snaps := &binanceSnapshots{bodies: []string{
		`{"lastUpdateId":10,"bids":[["100","1"],["99","1"]],"asks":[["101","1"],["102","1"]]}`,
	}, depth: 1000}
	x := newPipe(t, normalize.NewBinance, Binance, "BTC-USDT", &Options{Fetcher: snaps})
	x.feed(t,
		binanceDiff("BTCUSDT", 11, 11, -1, nil, [][2]string{{"101", "2"}}),
		binanceDiff("BTCUSDT", 12, 20, -1, [][2]string{{"100", "3"}}, nil),
	)
	require.True(t, x.b.Live())
	require.NoError(t, x.p.HandleSnapshot(context.Background(), "BTCUSDT",
		[]byte(`{"lastUpdateId":15,"bids":[["100","1"],["99","1"]],"asks":[["101","2"],["102","1"]]}`), x.ts+1))
	x.ts++
	x.feed(t, binanceDiff("BTCUSDT", 21, 21, -1, nil, [][2]string{{"102", "5"}}))
	require.True(t, x.b.Live())
	require.Empty(t, x.markers(), "nothing was lost")
	require.Equal(t, 1, snaps.n, "no refetch")
	requireTop(t, x.b, [][2]string{{"100", "3"}, {"99", "1"}}, [][2]string{{"101", "2"}, {"102", "5"}})
}
