package book

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
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

// okxAt is an OKX books push stamped ts (ms).
func okxAt(action string, prev int64, seq uint64, ts int64, bids, asks string) []byte {
	return fmt.Appendf(nil, `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":%q,"data":[{"asks":[%s],"bids":[%s],"ts":"%d","checksum":0,"prevSeqId":%d,"seqId":%d}]}`,
		action, asks, bids, ts, prev, seq)
}

func okxBooksAt(seq uint64, ts int64, bids, asks string) string {
	return fmt.Sprintf(`{"code":"0","msg":"","data":[{"asks":[%s],"bids":[%s],"ts":"%d","seqId":%d}]}`, asks, bids, ts, seq)
}

// newOKXFetchBookOpts is newOKXFetchBook with options (Fetcher set).
func newOKXFetchBookOpts(t *testing.T, o Options, answers ...string) (*Book, *okxRESTVenue) {
	t.Helper()
	v := &okxRESTVenue{answers: answers}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	o.Fetcher = &OKXREST{BaseURL: srv.URL}
	bk, _, _ := newRecBook(t, OKXFetch, "BTC-USDT", &o)
	return bk, v
}

// OKX "Order book channel", seqId: "seqId may be reset during
// maintenance"; the push after it has seqId < prevSeqId. A reset that
// comes while an OKXFetch book buffers diffs for its snapshot renumbers
// the stream: a REST snapshot generated after the reset's push (its ts
// later) is of the new numbering, and the diffs before the reset are
// older than it, whatever their ids say. Before, the first of them read
// as a gap against every such snapshot (its prevSeqId of the old
// numbering above the new seqId): the book fetched again and again and
// never went live. A snapshot generated before the reset is of the old
// numbering and joins the diffs before it, as before.
func TestS31OKXFetchResetWhileBuffering(t *testing.T) {
	ctx := context.Background()
	const t0 = 1700000000000
	old := okxBooksAt(95, t0, `["100","9","0","1"]`, `["101","9","0","1"]`) // older than the first diff: fetched again
	run := func(t *testing.T, snap string) *Book {
		bk, v := newOKXFetchBookOpts(t, Options{RetryInterval: time.Nanosecond}, old, old, old, snap)
		require.ErrorIs(t, bk.Apply(ctx, okxEvent(t, okxAt("update", 100, 103, t0+100, `["100","4","0","1"]`, ``))), ErrStale)
		require.False(t, bk.Live())
		// The reset: 103 → 5, in the new numbering from there.
		require.NoError(t, bk.Apply(ctx, okxEvent(t, okxAt("update", 103, 5, t0+500, `["99","3","0","1"]`, ``))))
		require.True(t, bk.Live(), "queries %q", v.queries)
		require.Len(t, v.queries, 4)
		return bk
	}
	t.Run("snapshot after the reset", func(t *testing.T) {
		bk := run(t, okxBooksAt(8, t0+600, `["100","5","0","1"]`, `["101","1","0","1"]`))
		requireTop(t, bk, [][2]string{{"100", "5"}}, [][2]string{{"101", "1"}})
		require.Equal(t, uint64(8), bk.LastSeq())
		applyLive(t, bk, okxAt("update", 5, 8, t0+550, ``, ``)) // covered by the snapshot
		applyLive(t, bk, okxAt("update", 8, 10, t0+700, `["99","2","0","1"]`, ``))
		requireTop(t, bk, [][2]string{{"100", "5"}, {"99", "2"}}, [][2]string{{"101", "1"}})
	})
	t.Run("snapshot before the reset", func(t *testing.T) {
		bk := run(t, okxBooksAt(101, t0+400, `["100","7","0","1"]`, `["101","7","0","1"]`))
		requireTop(t, bk, [][2]string{{"100", "4"}, {"99", "3"}}, [][2]string{{"101", "7"}})
		require.Equal(t, uint64(5), bk.LastSeq())
		applyLive(t, bk, okxAt("update", 5, 8, t0+550, ``, `["101","6","0","1"]`))
		requireTop(t, bk, [][2]string{{"100", "4"}, {"99", "3"}}, [][2]string{{"101", "6"}})
	})
}

func okxBooks5(seq uint64, bids, asks string) []byte {
	return fmt.Appendf(nil, `{"arg":{"channel":"books5","instId":"BTC-USDT"},"data":[{"asks":[%s],"bids":[%s],"instId":"BTC-USDT","ts":"1700000000000","seqId":%d}]}`, asks, bids, seq)
}

// books5 (OKX "Order book channel": 5 levels, a snapshot every push; no
// checksum, not part of the delisting) keeps a Depth 5 book by any OKX
// rule: OKXFetch, the default, takes each push, and after a maintenance
// reset ("seqId may be reset during maintenance") a push whose seqId is
// below the book's is still the venue's book now. Before, OKXFetch
// ignored every stream snapshot (never live); then, taking them, it
// dropped those below the book's seqId as a Binance book drops an old
// REST snapshot, and served the book of before the reset as live for
// good.
func TestS31OKXFetchBooks5(t *testing.T) {
	rule, err := OKXFetch.WithDepth(5)
	require.NoError(t, err)
	v := &okxRESTVenue{answers: []string{`{"code":"50001","msg":"unavailable","data":[]}`}}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	bk, _, _ := newRecBook(t, rule, "BTC-USDT", &Options{Fetcher: &OKXREST{BaseURL: srv.URL}})
	applyLive(t, bk, okxBooks5(100, `["100","1","0","1"]`, `["101","1","0","1"]`))
	applyLive(t, bk, okxBooks5(200, `["100","2","0","1"]`, `["101","2","0","1"]`))
	requireTop(t, bk, [][2]string{{"100", "2"}}, [][2]string{{"101", "2"}})
	applyLive(t, bk, okxBooks5(3, `["99","3","0","1"]`, `["102","3","0","1"]`)) // after a reset
	requireTop(t, bk, [][2]string{{"99", "3"}}, [][2]string{{"102", "3"}})
	require.Empty(t, v.queries)
	require.Zero(t, bk.Stats().Stale)
}

// 0 allocations per diff kept on the default OKX rule, on a book live
// from the stream's snapshot and on one live from a fetched snapshot.
func TestS31OKXFetchZeroAllocsPerDiff(t *testing.T) {
	for _, fromStream := range []bool{true, false} {
		t.Run(fmt.Sprintf("stream snapshot %v", fromStream), func(t *testing.T) {
			events := schema.NewPools(nil).Events
			o := &Options{Sink: &sinkPut{events: events}, Events: events,
				Fetcher: FetcherFunc(func(_ context.Context, _ string, dst *schema.CanonicalEvent) error {
					dst.Book.LastSeq = 1000
					for i := range 400 {
						dst.Book.Bids = append(dst.Book.Bids, schema.Level{Price: schema.NewDecimal(int64(300000-i), 1), Qty: schema.NewDecimal(1, 0)})
						dst.Book.Asks = append(dst.Book.Asks, schema.Level{Price: schema.NewDecimal(int64(300001+i), 1), Qty: schema.NewDecimal(1, 0)})
					}
					return nil
				})}
			b, err := NewBook(OKXFetch, "BTC-USDT", o)
			require.NoError(t, err)
			ctx := context.Background()
			if fromStream {
				snap := &schema.CanonicalEvent{Venue: schema.VenueOKX, Symbol: "BTC-USDT", Type: schema.EventBookSnapshot}
				require.NoError(t, o.Fetcher.Fetch(ctx, "", snap))
				require.NoError(t, b.Apply(ctx, snap))
			}
			d := &schema.CanonicalEvent{Venue: schema.VenueOKX, Symbol: "BTC-USDT", Type: schema.EventBookUpdate}
			d.Book.Bids = make([]schema.Level, 1)
			seq, k := uint64(1000), int64(0)
			next := func() {
				k++
				d.Book.PrevSeq, d.Book.LastSeq = seq, seq+3
				seq += 3
				d.Book.Bids[0] = schema.Level{Price: schema.NewDecimal(300000-k%300, 1), Qty: schema.NewDecimal(k%7, 0)}
				if err := b.Apply(ctx, d); err != nil {
					panic(err)
				}
			}
			next()
			require.True(t, b.Live())
			require.Zero(t, testing.AllocsPerRun(500, next))
			require.True(t, b.Live())
			require.Zero(t, b.Stats().Invalidations)
		})
	}
}
