package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func okxSnap(seq uint64, bids, asks string) []byte {
	return okxRaw("books", "snapshot", -1, seq, bids, asks, `,"checksum":0`)
}

// An OKX that still sends the stream snapshot (our recordings, an OKX
// before the delisting, venuesim without OKXNoSnapshot): OKXFetch, the
// default OKX rule, goes live on it as OKX's docs had it, without a
// fetch, and chains the updates after it. Before, it ignored every
// stream snapshot and fetched on the first update.
func TestS31OKXFetchTakesAWholeStreamSnapshot(t *testing.T) {
	bk, _, v := newOKXFetchBook(t, `{"code":"50011","msg":"Too Many Requests","data":[]}`)
	applyLive(t, bk, okxSnap(200, `["100","5","0","1"]`, `["101","1","0","1"]`))
	applyLive(t, bk, okxUpdate(200, 203, `["99","2","0","1"]`, ``))
	requireTop(t, bk, [][2]string{{"100", "5"}, {"99", "2"}}, [][2]string{{"101", "1"}})
	require.Empty(t, v.queries, "no fetch: the stream's snapshot holds the book")
	require.EqualValues(t, 1, bk.Stats().Snapshots)
	require.Zero(t, bk.Stats().Stale)
}

// OKX after the delisting ("Delist initial snapshot and checksum field in
// order book channels"; "How to manage a local order book correctly":
// "Ignore the first event received (action is snapshot)"): a "snapshot"
// with no level holds no book. No OKX rule goes live on it, empty: the
// stream rule (OKX) waits for a snapshot that holds the book, OKXFetch
// fetches on the first update and goes live on the REST snapshot.
func TestS31OKXEmptyStreamSnapshotNeverLive(t *testing.T) {
	ctx := context.Background()
	t.Run("OKX", func(t *testing.T) {
		bk, _, _ := newRecBook(t, OKX, "BTC-USDT", nil)
		require.NoError(t, bk.Apply(ctx, okxEvent(t, okxSnap(300, ``, ``))))
		require.False(t, bk.Live(), "an empty stream snapshot is OKX's placeholder, not an empty book")
		require.EqualValues(t, 1, bk.Stats().Stale)
		require.NoError(t, bk.Apply(ctx, okxEvent(t, okxUpdate(300, 301, `["100","1","0","1"]`, ``))))
		require.False(t, bk.Live())
	})
	t.Run("OKXFetch", func(t *testing.T) {
		bk, _, v := newOKXFetchBook(t, okxBooksJSON(302, `["100","5","0","1"]`, `["101","1","0","1"]`))
		require.NoError(t, bk.Apply(ctx, okxEvent(t, okxSnap(300, ``, ``))))
		require.False(t, bk.Live())
		applyLive(t, bk, okxUpdate(300, 304, `["99","2","0","1"]`, ``))
		require.Len(t, v.queries, 1)
		requireTop(t, bk, [][2]string{{"100", "5"}, {"99", "2"}}, [][2]string{{"101", "1"}})
		// A live book ignores the placeholder of a rotation's new
		// connection: it still chains.
		require.NoError(t, bk.Apply(ctx, okxEvent(t, okxSnap(304, ``, ``))))
		applyLive(t, bk, okxUpdate(304, 306, ``, `["102","3","0","1"]`))
		requireTop(t, bk, [][2]string{{"100", "5"}, {"99", "2"}}, [][2]string{{"101", "1"}, {"102", "3"}})
	})
}
