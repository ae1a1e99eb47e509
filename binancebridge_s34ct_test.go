package meltica_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize/book"
)

func s34ctSpotDiff(first, last uint64, bids, asks string) string {
	return fmt.Sprintf(`{"e":"depthUpdate","E":%d,"s":"BTCUSDT","U":%d,"u":%d,"b":[%s],"a":[%s]}`,
		1_700_000_000_000+last, first, last, bids, asks)
}

func s34ctFuturesDiff(first, last, prev uint64, bids, asks string) string {
	return fmt.Sprintf(`{"e":"depthUpdate","E":%d,"T":%d,"s":"BTCUSDT","U":%d,"u":%d,"pu":%d,"b":[%s],"a":[%s]}`,
		1_700_000_000_000+last, 1_700_000_000_000+last, first, last, prev, bids, asks)
}

const s34ctSnap100 = `{"lastUpdateId":100,"bids":[["100.0","1"],["99.0","2"]],"asks":[["101.0","1"],["102.0","2"]]}`

// Binance spot "How to manage a local order book correctly": buffer the
// stream, get the snapshot, "discard any event where u is <= lastUpdateId
// of the snapshot"; the first event applied must have its [U;u] range
// contain lastUpdateId+1; then each event's U is the previous u + 1. The
// diffs before the snapshot (u 95 and u 100, which would put back a bid
// of 5 at 100.0 and an ask of 9 at 101.0) leave no trace; the bridging
// diff (U 98 ≤ 101 ≤ u 103) and its successor are applied: the host's
// book is the venue's, level for level.
func TestS34ctBinanceSpotBridgesTheSnapshot(t *testing.T) {
	rest := newS34ctDepthREST(t, s34ctSnap100)
	w := newS34ctBinanceBook(t, rest, book.BinanceSpotDepth)
	for _, m := range []string{
		s34ctSpotDiff(90, 95, `["100.0","5"]`, ""),
		s34ctSpotDiff(96, 100, "", `["101.0","9"]`),
		s34ctSpotDiff(98, 103, `["99.5","3"]`, ""),
		s34ctSpotDiff(104, 105, "", `["102.0","0"]`),
	} {
		require.NoError(t, w.feed(m), "%s", m)
	}
	assert.Equal(t, "100.0x1 99.5x3 99.0x2 | 101.0x1", w.levels(10))
	assert.Equal(t, uint64(105), w.b.LastSeq())
	assert.Equal(t, []string{"/api/v3/depth?limit=1000&symbol=BTCUSDT"}, rest.asked(), "one fetch, of the spot endpoint")
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
}

// The same guide: "If the first buffered event's U is above
// lastUpdateId+1 … the snapshot is too old: get a new one" — a snapshot
// older than the stream cannot be bridged. With snapshot 100 and the
// first diff U 105, the book must not go live on it (ids 101–104 are in
// neither); it fetches again (Options.FetchAttempts: within the same
// resync), bridges the newer snapshot (lastUpdateId 106) with the
// buffered diffs and serves exactly the venue's book — never the old
// snapshot with the diff on top.
func TestS34ctBinanceSpotUnbridgeableSnapshotIsFetchedAgain(t *testing.T) {
	rest := newS34ctDepthREST(t, s34ctSnap100,
		`{"lastUpdateId":106,"bids":[["100.0","1"],["99.0","4"]],"asks":[["101.0","1"],["102.0","2"]]}`)
	w := newS34ctBinanceBook(t, rest, book.BinanceSpotDepth)
	_ = w.feed(s34ctSpotDiff(105, 106, `["99.0","4"]`, ""))
	if lv := w.levels(10); lv != "not live" {
		assert.Equal(t, "100.0x1 99.0x4 | 101.0x1 102.0x2", lv, "only the newer snapshot's book")
		assert.Equal(t, uint64(106), w.b.LastSeq())
	}
	_ = w.feed(s34ctSpotDiff(107, 108, `["98.0","7"]`, ""))
	assert.Equal(t, "100.0x1 99.0x4 98.0x7 | 101.0x1 102.0x2", w.levels(10))
	assert.Len(t, rest.asked(), 2, "fetched again: %v", rest.asked())
}

// Binance USDⓈ-M "How to manage a local order book correctly": "drop
// any event where u is < lastUpdateId in the snapshot"; "the first
// processed event should have U <= lastUpdateId AND u >= lastUpdateId";
// then "each new event's pu should be equal to the previous event's u,
// otherwise initialize the process from step 3" — U skips ids on
// futures, so U ≠ previous u + 1 is no gap; a pu that is not the
// previous u is one: the book stops serving at once, announces it, and
// fetches a new snapshot (from /fapi/v1/depth, the futures book's own
// ids).
func TestS34ctBinanceUSDMPuContinuity(t *testing.T) {
	rest := newS34ctDepthREST(t, `{"lastUpdateId":100,"E":1700000000100,"T":1700000000100,"bids":[["100.0","1"],["99.0","2"]],"asks":[["101.0","1"],["102.0","2"]]}`,
		`{"lastUpdateId":140,"E":1700000000140,"T":1700000000140,"bids":[["100.0","3"]],"asks":[["101.0","3"]]}`)
	w := newS34ctBinanceBook(t, rest, book.BinanceUSDMDepth)
	for _, m := range []string{
		s34ctFuturesDiff(80, 99, 79, `["100.0","8"]`, ""),
		s34ctFuturesDiff(95, 110, 99, `["99.5","3"]`, ""),
		s34ctFuturesDiff(115, 120, 110, "", `["102.0","0"]`),
	} {
		require.NoError(t, w.feed(m), "%s", m)
	}
	assert.Equal(t, "100.0x1 99.5x3 99.0x2 | 101.0x1", w.levels(10), "U skipping ids is no gap on futures")
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)

	// pu 125 after u 120: 121–125 lost.
	_ = w.feed(s34ctFuturesDiff(126, 130, 125, `["99.6","1"]`, ""))
	if lv := w.levels(10); lv != "not live" {
		// The book may have fetched at once: then it must be the new
		// snapshot's book, nothing of the old one.
		assert.Equal(t, "100.0x3 | 101.0x3", lv)
	}
	assert.Positive(t, w.gaps(), "the loss announced")
	_ = w.feed(s34ctFuturesDiff(135, 141, 130, `["99.7","1"]`, ""))
	assert.Equal(t, "100.0x3 99.7x1 | 101.0x3", w.levels(10))
	asked := rest.asked()
	require.Len(t, asked, 2, "%v", asked)
	assert.Equal(t, "/fapi/v1/depth?limit=1000&symbol=BTCUSDT", asked[1])
}
