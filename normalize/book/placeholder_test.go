package book

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

var checksumField = regexp.MustCompile(`"checksum":-?[0-9]+`)

// OKX deprecated the books checksum and sends "checksum":0: a placeholder
// for "not sent". The real snapshot and update, with their checksums
// zeroed, through the real parser: the book goes live and stays live, no
// mismatch, no resubscription.
func TestOKXChecksumPlaceholder(t *testing.T) {
	zero := func(name string) []byte {
		b := checksumField.ReplaceAll(readVenue(t, name), []byte(`"checksum":0`))
		require.Contains(t, string(b), `"checksum":0`)
		return b
	}
	snap, upd := okxEvent(t, zero("okx_books_snapshot.json")), okxEvent(t, zero("okx_books_update.json"))
	var resubs int
	bk, sink, _ := newRecBook(t, OKX, "BTC-USDT", &Options{Resubscribe: func(context.Context, schema.Venue, string) error { resubs++; return nil }})
	ctx := context.Background()
	require.NoError(t, bk.Apply(ctx, snap))
	require.True(t, bk.Live(), "a snapshot with checksum 0 goes live")
	require.NoError(t, bk.Apply(ctx, upd))
	require.True(t, bk.Live())
	st := bk.Stats()
	require.Zero(t, st.ChecksumErrors)
	require.Zero(t, st.Checksums, "nothing to verify")
	require.Equal(t, uint64(1), st.Applied)
	require.Zero(t, resubs)
	require.Empty(t, sink.ofType(schema.EventGap))
	requireTop(t, bk, [][2]string{{"30243.4", "0.0012029"}}, [][2]string{{"30243.5", "1.2112"}})

	// A checksum that is sent and wrong is still a mismatch.
	bad := *okxEvent(t, readVenue(t, "okx_books_update.json"))
	bad.Book.Checksum ^= 1
	require.NoError(t, bk.Apply(ctx, &bad))
	require.False(t, bk.Live())
	requireMarker(t, sink, 1, ReasonChecksum)
}

// The same placeholder on every venue whose books carry a checksum: a
// Kraken message with checksum 0 is not checked; a real one is. v1: the
// real snapshot (which carries none) and update, the update once zeroed
// then real. v2 (whose published samples are not one consistent book):
// snapshot and update both zeroed.
func TestChecksumPlaceholderKraken(t *testing.T) {
	ctx := context.Background()
	t.Run("v1", func(t *testing.T) {
		rule := KrakenV1
		rule.Depth = 1000
		bk, sink, _ := newRecBook(t, rule, "XMR-USD", nil)
		snap, upd := krakenEvent(t, readVenue(t, "kraken_v1_book_snapshot.json")), krakenEvent(t, readVenue(t, "kraken_v1_book_update.json"))
		require.NoError(t, bk.Apply(ctx, snap))
		zeroed := *upd
		zeroed.Book.Checksum = 0
		require.True(t, zeroed.Book.HasChecksum)
		require.NoError(t, bk.Apply(ctx, &zeroed))
		require.True(t, bk.Live())
		require.Zero(t, bk.Stats().Checksums)
		require.NoError(t, bk.Apply(ctx, upd), "the real checksum of the same book")
		require.True(t, bk.Live())
		require.Equal(t, uint64(1), bk.Stats().Checksums)
		require.Zero(t, bk.Stats().ChecksumErrors)
		require.Empty(t, sink.ofType(schema.EventGap))
	})
	t.Run("v2", func(t *testing.T) {
		bk, sink, _ := newRecBook(t, KrakenV2, "BTC-USD", nil)
		snap := krakenEvent(t, checksumField.ReplaceAll(readVenue(t, "kraken_v2_book_snapshot.json"), []byte(`"checksum":0`)))
		upd := krakenEvent(t, checksumField.ReplaceAll(readVenue(t, "kraken_v2_book_update.json"), []byte(`"checksum":0`)))
		require.True(t, snap.Book.HasChecksum)
		require.NoError(t, bk.Apply(ctx, snap))
		require.True(t, bk.Live())
		require.NoError(t, bk.Apply(ctx, upd))
		require.True(t, bk.Live())
		require.Zero(t, bk.Stats().Checksums)
		require.Zero(t, bk.Stats().ChecksumErrors)
		require.Empty(t, sink.ofType(schema.EventGap))
	})
}
