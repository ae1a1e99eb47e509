package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// requireMarker asserts that exactly want gap markers were published, the
// last with reason.
func requireMarker(t testing.TB, sink *recSink, want int, reason string) *schema.CanonicalEvent {
	t.Helper()
	gaps := sink.ofType(schema.EventGap)
	require.Len(t, gaps, want)
	m := gaps[want-1]
	require.Equal(t, schema.ControlGap, m.Control.Kind)
	require.Equal(t, schema.EventBookUpdate, m.Control.GapType)
	require.Equal(t, reason, m.Control.Reason)
	return m
}

// A bad OKX checksum: the book clears itself, publishes one marker, asks
// for a resubscription, drops diffs until the snapshot comes, and is live
// again — checksums matching — once it has.
func TestBadChecksumResubscribes(t *testing.T) {
	snap := okxEvent(t, readVenue(t, "okx_books_snapshot.json"))
	upd := okxEvent(t, readVenue(t, "okx_books_update.json"))
	var resubs []string
	bk, sink, _ := newRecBook(t, OKX, "BTC-USDT", &Options{Resubscribe: func(_ context.Context, v schema.Venue, s string) error {
		resubs = append(resubs, string(v)+" "+s)
		return nil
	}})
	ctx := context.Background()
	require.NoError(t, bk.Apply(ctx, snap))
	bad := *upd
	bad.Book.Checksum ^= 1
	require.NoError(t, bk.Apply(ctx, &bad))
	require.False(t, bk.Live())
	requireMarker(t, sink, 1, ReasonChecksum)
	require.Equal(t, []string{"okx BTC-USDT"}, resubs)
	var top schema.CanonicalEvent
	require.False(t, bk.Top(0, &top))
	require.Empty(t, top.Book.Bids, "no level survives an invalidation")
	require.Empty(t, top.Book.Asks)

	// Diffs before the new snapshot are dropped, not applied to nothing.
	require.NoError(t, bk.Apply(ctx, upd))
	require.False(t, bk.Live())
	require.Equal(t, uint64(1), bk.Stats().Waiting)
	requireMarker(t, sink, 1, ReasonChecksum)

	require.NoError(t, bk.Apply(ctx, snap))
	require.NoError(t, bk.Apply(ctx, upd))
	require.True(t, bk.Live())
	require.Equal(t, uint64(1), bk.Stats().ChecksumErrors)
}

// Sequence breaks per rule: each invalidates once, names the lost range and
// leaves the book empty until it resynchronises.
func TestGapRules(t *testing.T) {
	ctx := context.Background()
	t.Run("bybit", func(t *testing.T) {
		bk, sink, _ := newRecBook(t, Bybit, "BTC-USDT", nil)
		snap := bybitEvent(t, readVenue(t, "bybit_v5_orderbook_snapshot.json"))
		delta := bybitEvent(t, readVenue(t, "bybit_v5_orderbook_delta.json"))
		require.NoError(t, bk.Apply(ctx, snap))
		delta.Book.LastSeq += 2 // u 2876703 after 2876700
		require.NoError(t, bk.Apply(ctx, delta))
		require.False(t, bk.Live())
		m := requireMarker(t, sink, 1, ReasonGap)
		require.Equal(t, uint64(2876701), m.Control.GapFirstSeq, "the missing ids")
		require.Equal(t, uint64(2876702), m.Control.GapLastSeq)
		// A stale duplicate on a live book is dropped, not a gap.
		require.NoError(t, bk.Apply(ctx, snap))
		delta.Book.LastSeq = 2876700
		require.NoError(t, bk.Apply(ctx, delta))
		require.True(t, bk.Live())
		require.Equal(t, uint64(1), bk.Stats().Stale)
	})
	t.Run("okx", func(t *testing.T) {
		bk, sink, _ := newRecBook(t, OKX, "BTC-USDT", nil)
		snap := okxEvent(t, readVenue(t, "okx_books_snapshot.json"))
		upd := okxEvent(t, readVenue(t, "okx_books_update.json"))
		snap.Book.LastSeq = 100
		upd.Book.PrevSeq, upd.Book.LastSeq = 101, 102
		require.NoError(t, bk.Apply(ctx, snap))
		require.NoError(t, bk.Apply(ctx, upd))
		require.False(t, bk.Live())
		requireMarker(t, sink, 1, ReasonGap)
	})
	t.Run("binance", func(t *testing.T) {
		var fetches int
		bk, sink, _ := newRecBook(t, Binance, "BTC-USDT", &Options{Fetcher: FetcherFunc(func(_ context.Context, _ string, dst *schema.CanonicalEvent) error {
			fetches++
			dst.Book.Bids = append(dst.Book.Bids, schema.Level{Price: schema.MustParseDecimal("100"), Qty: schema.MustParseDecimal("1")})
			dst.Book.Asks = append(dst.Book.Asks, schema.Level{Price: schema.MustParseDecimal("101"), Qty: schema.MustParseDecimal("1")})
			dst.Book.LastSeq = uint64(10 * fetches * fetches) // 10, then 40
			return nil
		})})
		diff := func(first, last uint64, qty string) *schema.CanonicalEvent {
			return &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventBookUpdate,
				Book: schema.Book{FirstSeq: first, LastSeq: last, Bids: []schema.Level{{Price: schema.MustParseDecimal("99"), Qty: schema.MustParseDecimal(qty)}}}}
		}
		require.NoError(t, bk.Apply(ctx, diff(9, 11, "2")))
		require.True(t, bk.Live())
		require.NoError(t, bk.Apply(ctx, diff(12, 12, "3")))
		require.Equal(t, uint64(12), bk.LastSeq())
		// U 20 after u 12: a gap. The book clears, marks, buffers the diff
		// and fetches (lastUpdateId 40 covers it: dropped as stale).
		require.NoError(t, bk.Apply(ctx, diff(20, 25, "4")))
		m := requireMarker(t, sink, 1, ReasonGap)
		require.Equal(t, uint64(13), m.Control.GapFirstSeq)
		require.Equal(t, uint64(19), m.Control.GapLastSeq)
		require.Equal(t, 2, fetches)
		require.True(t, bk.Live())
		var top schema.CanonicalEvent
		bk.Top(0, &top)
		require.Len(t, top.Book.Bids, 1, "the level 99 of before the gap is gone")
		require.NoError(t, bk.Apply(ctx, diff(41, 41, "5")))
		require.Equal(t, uint64(41), bk.LastSeq())
	})
}

// A snapshot older than the buffered diffs is fetched again, a bounded
// number of times; then the book says so and waits RetryInterval.
func TestStaleSnapshotRefetch(t *testing.T) {
	var fetches int
	bk, sink, _ := newRecBook(t, Binance, "BTC-USDT", &Options{FetchAttempts: 2, Fetcher: FetcherFunc(func(_ context.Context, _ string, dst *schema.CanonicalEvent) error {
		fetches++
		dst.Book.LastSeq = 5
		return nil
	})})
	ctx := context.Background()
	d := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventBookUpdate, Book: schema.Book{FirstSeq: 50, LastSeq: 51}}
	require.ErrorIs(t, bk.Apply(ctx, d), ErrStale)
	require.Equal(t, 2, fetches)
	require.False(t, bk.Live())
	d.Book.FirstSeq, d.Book.LastSeq = 52, 52
	require.NoError(t, bk.Apply(ctx, d), "within RetryInterval: buffered, no fetch")
	require.Equal(t, 2, fetches)
	require.Empty(t, sink.ofType(schema.EventGap), "nothing was live: no marker")
	require.Equal(t, uint64(2), bk.Stats().Buffered)
}

// A lost connection invalidates every book of the venue through Books; a
// second one while the book is empty adds no marker.
func TestReconnectInvalidates(t *testing.T) {
	bk, sink, events := newRecBook(t, Bybit, "BTC-USDT", nil)
	books := NewBooks(nil, events, nil)
	books.Add(bk)
	ctx := context.Background()
	snap := bybitEvent(t, readVenue(t, "bybit_v5_orderbook_snapshot.json"))
	require.NoError(t, bk.Apply(ctx, snap))
	for range 2 {
		ev, err := events.Get(ctx)
		require.NoError(t, err)
		ev.Venue, ev.Type = schema.VenueBybit, schema.EventConnState
		ev.UseControl().Kind, ev.UseControl().State = schema.ControlConnState, schema.ConnDisconnected
		require.NoError(t, books.Publish(ctx, ev))
	}
	require.False(t, bk.Live())
	requireMarker(t, sink, 1, ReasonReconnect)
	require.Same(t, bk, books.Book(schema.VenueBybit, "BTC-USDT"))
}
