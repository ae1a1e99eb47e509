package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// parserFetcher fetches the Binance REST snapshot by running it through the
// real parser's HandleSnapshot.
func parserFetcher(body []byte) Fetcher {
	return FetcherFunc(func(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error {
		events := schema.NewPools(nil).Events
		p := normalize.NewBinance(events, normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			ev.CloneInto(dst)
			events.Put(ev)
			return nil
		}), nil)
		return p.HandleSnapshot(ctx, "NKNUSDT", body, 1)
	})
}

// The real Binance sequence: the REST snapshot (lastUpdateId 499869752) and
// two diffs. The first (U 499869750, u 499869752) is covered by the snapshot
// and dropped; the second (U 499869753 = lastUpdateId+1) is the first
// applied.
func TestReplayBinance(t *testing.T) {
	snap := readVenue(t, "binance_depth_snapshot.json")
	diffs := [][]byte{readVenue(t, "binance_combined_depthUpdate.json"), readVenue(t, "binance_combined_depthUpdate_next.json")}

	var fetches int
	var bk *Book
	var sink *recSink
	fetch := parserFetcher(snap)
	bk, sink, events := newRecBook(t, Binance, "NKN-USDT", &Options{Fetcher: FetcherFunc(func(ctx context.Context, s string, dst *schema.CanonicalEvent) error {
		fetches++
		require.Equal(t, "NKN-USDT", s)
		return fetch.Fetch(ctx, s, dst)
	})})
	books := NewBooks(nil, events, nil)
	books.Add(bk)
	p := normalize.NewBinance(events, books, nil)
	ctx := context.Background()

	var want schema.CanonicalEvent
	require.NoError(t, fetch.Fetch(ctx, "NKN-USDT", &want))
	require.Equal(t, uint64(499869752), want.Book.LastSeq)

	for _, d := range diffs {
		require.NoError(t, p.HandleBytes(ctx, d, 1))
	}
	require.True(t, bk.Live())
	require.Equal(t, 1, fetches, "one snapshot, fetched when the first diff was buffered")
	st := bk.Stats()
	require.Equal(t, uint64(1), st.Stale, "the diff with u = lastUpdateId is dropped")
	require.Equal(t, uint64(1), st.Applied)
	require.Equal(t, uint64(499869754), bk.LastSeq())
	require.Zero(t, st.Markers)

	// The state the venue implies: the snapshot plus the second diff.
	var got schema.CanonicalEvent
	bk.Top(0, &got)
	require.Equal(t, len(want.Book.Bids)+1, len(got.Book.Bids), "0.35170000 is a new bid level")
	require.Equal(t, len(want.Book.Asks), len(got.Book.Asks), "0.35290000 changed in place")
	requireTop(t, bk,
		[][2]string{{"0.35210000", "672.00000000"}, {"0.35200000", "1144.00000000"}, {"0.35190000", "3260.00000000"}, {"0.35180000", "3052.00000000"}, {"0.35170000", "4265.00000000"}, {"0.35160000", "15356.00000000"}},
		nil)
	var found bool
	for _, l := range got.Book.Asks {
		if l.Price.String() == "0.35290000" {
			found = true
			require.Equal(t, "10968.00000000", l.Qty.String())
		}
	}
	require.True(t, found)
	// Every other level is the snapshot's.
	for _, l := range want.Book.Bids {
		require.Contains(t, got.Book.Bids, l)
	}
	bbo := sink.ofType(schema.EventBBO)
	require.NotEmpty(t, bbo)
	last := bbo[len(bbo)-1]
	require.Equal(t, "0.35210000", last.BBO.BidPrice.String())
	require.Equal(t, got.Book.Asks[0], schema.Level{Price: last.BBO.AskPrice, Qty: last.BBO.AskQty})
}

// OKX: the snapshot and the update each carry the CRC32 of the top 25
// levels; both must match the book they leave.
func TestReplayOKX(t *testing.T) {
	bk, sink, _ := newRecBook(t, OKX, "BTC-USDT", nil)
	snap, _ := replayPair(t, bk, okxEvent, "okx_books_snapshot.json", "okx_books_update.json", func() {
		sum, _ := ChecksumOKX.sum(bk, nil)
		require.Equal(t, int32(47640993), int32(sum))
	})
	require.Equal(t, int32(47640993), int32(snap.Book.Checksum))
	sum, _ := ChecksumOKX.sum(bk, nil)
	require.Equal(t, int32(-652563973), int32(sum))
	st := bk.Stats()
	require.Zero(t, st.ChecksumErrors)
	require.Zero(t, st.Markers)
	// 30247.5 was deleted, 30243.5 shrank, 30243.6 and 30246.6 are new.
	requireTop(t, bk,
		[][2]string{{"30243.4", "0.0012029"}, {"30236.6", "0.007903"}, {"30236.1", "0.05452"}},
		[][2]string{{"30243.5", "1.2112"}, {"30243.6", "0.059"}, {"30244", "0.08"}, {"30246.1", "0.05426064"}, {"30246.6", "0.16"}, {"30248.1", "0.0132"}})
	require.Len(t, sink.ofType(schema.EventBBO), 2)
}

// Kraken v1: the update's "c" is the CRC32 of the top 10 asks then bids,
// from the wire digits without the point and leading zeros.
func TestReplayKrakenV1(t *testing.T) {
	rule := KrakenV1
	rule.Depth = 1000
	bk, _, _ := newRecBook(t, rule, "XMR-USD", nil)
	_, upd := replayPair(t, bk, krakenEvent, "kraken_v1_book_snapshot.json", "kraken_v1_book_update.json", nil)
	require.Equal(t, uint32(2583817756), upd.Book.Checksum)
	ctx := context.Background()
	st := bk.Stats()
	require.Zero(t, st.ChecksumErrors)
	require.Equal(t, uint64(1), st.Applied)
	var got schema.CanonicalEvent
	bk.Top(0, &got)
	require.Contains(t, got.Book.Bids, schema.Level{Price: schema.MustParseDecimal("354.15000000"), Qty: schema.MustParseDecimal("5.00000000")})
	require.Equal(t, "354.80000000", got.Book.Asks[0].Price.String())

	// The same update with another checksum breaks the book.
	bad := *upd
	bad.Book.Checksum++
	require.NoError(t, bk.Apply(ctx, &bad))
	require.False(t, bk.Live())
}

// Kraken v2 prints numbers without trailing zeros; its checksum pads them
// to the instrument's precision.
func TestKrakenNumberText(t *testing.T) {
	for _, tc := range []struct {
		in    string
		scale int
		want  string
	}{
		{"354.80000000", 0, "35480000000"},
		{"0.05000000", 0, "5000000"},
		{"0.5", 8, "50000000"},
		{"45283.5", 1, "452835"},
		{"45283", 1, "452830"},
		{"0", 0, ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, string(appendKrakenNumber(nil, schema.MustParseDecimal(tc.in), tc.scale)))
		})
	}
}

// Bybit: the snapshot (u 2876700) resets the book, the delta (u 2876701)
// continues it; a zero quantity deletes.
func TestReplayBybit(t *testing.T) {
	bk, _, _ := newRecBook(t, Bybit, "BTC-USDT", nil)
	snap, _ := replayPair(t, bk, bybitEvent, "bybit_v5_orderbook_snapshot.json", "bybit_v5_orderbook_delta.json", nil)
	ctx := context.Background()
	require.Equal(t, uint64(2876701), bk.LastSeq())
	var got schema.CanonicalEvent
	bk.Top(0, &got)
	require.Equal(t, 50, len(got.Book.Bids), "75848.62 added, 75837.13 deleted")
	require.Equal(t, 50, len(got.Book.Asks), "75855.23 added, 75852.65 deleted, three changed")
	requireTop(t, bk,
		[][2]string{{"75848.74", "0.067669"}, {"75848.63", "0.004772"}, {"75848.62", "0.014895"}, {"75848.61", "0.00659"}},
		[][2]string{{"75848.75", "0.747137"}, {"75848.89", "0.088149"}, {"75848.9", "0.1"}, {"75851.43", "0.00159"}, {"75851.44", "0.078379"}, {"75852.23", "0.00159"}, {"75852.54", "0.131067"}, {"75853.71", "0.00159"}})
	for _, l := range got.Book.Bids {
		require.NotEqual(t, "75837.13", l.Price.String(), "deleted bid kept")
	}
	// A snapshot resets everything, even mid-stream.
	require.NoError(t, bk.Apply(ctx, snap))
	bk.Top(0, &got)
	require.Equal(t, snap.Book.Bids, got.Book.Bids)
	require.Equal(t, snap.Book.Asks, got.Book.Asks)
}

// replayPair applies a venue's snapshot then its update, decoded by decode,
// checking the book is live after each; between runs after the snapshot.
func replayPair(t *testing.T, bk *Book, decode func(testing.TB, []byte) *schema.CanonicalEvent, snapFile, updFile string, between func()) (snap, upd *schema.CanonicalEvent) {
	t.Helper()
	snap, upd = decode(t, readVenue(t, snapFile)), decode(t, readVenue(t, updFile))
	require.NoError(t, bk.Apply(context.Background(), snap))
	require.True(t, bk.Live(), "after %s", snapFile)
	if between != nil {
		between()
	}
	require.NoError(t, bk.Apply(context.Background(), upd))
	require.True(t, bk.Live(), "after %s", updFile)
	return snap, upd
}
