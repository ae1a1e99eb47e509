package normalize

import (
	"context"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// The venues' book checksums are computed from the digits they sent; the
// events' decimals must give them back exactly. (Books themselves, and
// checksum verification, belong to package book: these tests only prove
// that normalize loses no digit.)

// krakenChecksum is Kraken's CRC32 over the top ten asks then bids, each
// price and quantity without its point and leading zeros.
func krakenChecksum(b *schema.Book) uint32 {
	var s strings.Builder
	strip := func(d schema.Decimal) {
		t := strings.TrimLeft(strings.ReplaceAll(d.String(), ".", ""), "0")
		s.WriteString(t)
	}
	for _, side := range [][]schema.Level{b.Asks, b.Bids} {
		for i, lv := range side {
			if i == 10 {
				break
			}
			strip(lv.Price)
			strip(lv.Qty)
		}
	}
	return crc32.ChecksumIEEE([]byte(s.String()))
}

// okxChecksum is OKX's CRC32 over bid:ask pairs of the top 25 levels.
func okxChecksum(b *schema.Book) uint32 {
	var parts []string
	for i := 0; i < 25; i++ {
		if i < len(b.Bids) {
			parts = append(parts, b.Bids[i].Price.String(), b.Bids[i].Qty.String())
		}
		if i < len(b.Asks) {
			parts = append(parts, b.Asks[i].Price.String(), b.Asks[i].Qty.String())
		}
	}
	return crc32.ChecksumIEEE([]byte(strings.Join(parts, ":")))
}

func TestBookChecksumDigits(t *testing.T) {
	tests := []struct {
		venue schema.Venue
		file  string
		sum   func(*schema.Book) uint32
	}{
		{ox, "okx_books_snapshot.json", okxChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(sharedVenues, tt.file))
			if err != nil {
				t.Skip("shared venue files absent")
			}
			p, sink := newTestVenue(t, tt.venue)
			require.NoError(t, p.HandleBytes(context.Background(), data, 1))
			b := &sink.got[0].Book
			require.True(t, b.HasChecksum)
			require.Equal(t, b.Checksum, tt.sum(b), "checksum %s", strconv.FormatUint(uint64(b.Checksum), 10))
		})
	}
}

// applyDiff applies a book diff's levels to a side: a zero quantity
// deletes the level.
func applyDiff(side, changes []schema.Level, desc bool) []schema.Level {
	side = slices.Clone(side)
	for _, c := range changes {
		side = slices.DeleteFunc(side, func(l schema.Level) bool { return l.Price.Cmp(c.Price) == 0 })
		if !c.Qty.IsZero() {
			side = append(side, c)
		}
	}
	slices.SortFunc(side, func(a, b schema.Level) int {
		if desc {
			return b.Price.Cmp(a.Price)
		}
		return a.Price.Cmp(b.Price)
	})
	return side
}

// The recorded snapshots and updates below are one session each: the
// update's checksum is that of the snapshot with the update applied,
// computed from the digits the events carry.
func TestChecksumAfterDiff(t *testing.T) {
	tests := []struct {
		venue          schema.Venue
		snapshot, diff string
		sum            func(*schema.Book) uint32
	}{
		{kr, "kraken_v1_book_snapshot.json", "kraken_v1_book_update.json", krakenChecksum},
		{ox, "okx_books_snapshot.json", "okx_books_update.json", okxChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.diff, func(t *testing.T) {
			p, sink := newTestVenue(t, tt.venue)
			for _, n := range []string{tt.snapshot, tt.diff} {
				b, err := os.ReadFile(filepath.Join(sharedVenues, n))
				if err != nil {
					t.Skip("shared venue files absent")
				}
				require.NoError(t, p.HandleBytes(context.Background(), b, 1))
			}
			require.Len(t, sink.got, 2)
			book, diff := sink.got[0].Book, sink.got[1].Book
			book.Asks = applyDiff(book.Asks, diff.Asks, false)
			book.Bids = applyDiff(book.Bids, diff.Bids, true)
			require.True(t, diff.HasChecksum)
			require.Equal(t, diff.Checksum, tt.sum(&book))
		})
	}
}
