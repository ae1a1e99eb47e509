package book

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
)

// Kraken v1 snapshots carry no checksum: the first one a v1 book checks
// is an update's, after which a lost update — Kraken numbers nothing — is
// as likely a cause of a mismatch as the precision. A precision search
// there can take the wrong book for the right one at another precision:
// with one level left in the top, its quantity ten times off reads, one
// digit further, as the venue's ("0.00420000" at 9 decimals is
// "0.04200000" at 8). The venue's v1 text shows the pair's precision, so
// an update's checksum is checked at the digits shown; only a snapshot's
// (v2), over the venue's own book, may teach a precision.
func TestKrakenV1LostUpdateNotExplainedByPrecision(t *testing.T) {
	x := newPipe(t, normalize.NewKraken, KrakenV1, "BTC-USD", nil)
	asks := [][2]string{{"100.1", "0.00420000"}, {"100.2", "1.00000000"}}
	x.feed(t, fmt.Sprintf(`[1,{"as":%s,"bs":[]},"book-10","XBT/USD"]`, krV1Levels(asks)))
	require.True(t, x.b.Live())
	// Lost: 100.1 to 0.04200000. Received: 100.2 deleted, with the
	// venue's checksum of its book, 100.1 at 0.04200000.
	truth := [][2]string{{"100.1", "0.04200000"}}
	x.feed(t, fmt.Sprintf(`[1,{"a":[["100.2","0.00000000","1700000000.2"]],"c":"%d"},"book-10","XBT/USD"]`, krakenSum(truth, nil)))
	require.False(t, x.b.Live(), "a book that lost an update was taken for the venue's at another precision")
	require.Equal(t, uint64(1), x.b.Stats().ChecksumErrors)
}

// A v1 book given a precision above the pair's (Rule.QtyScale 10 for a
// pair of 8 lot decimals) checks its first update at the digits the
// venue's text shows and keeps them: it is not resynced for the host's
// mistake, and a later wrong book still mismatches.
func TestKrakenV1PrecisionSetTooHighCorrected(t *testing.T) {
	rule := KrakenV1
	rule.PriceScale, rule.QtyScale = 1, 10
	x := newPipe(t, normalize.NewKraken, rule, "BTC-USD", nil)
	asks := [][2]string{{"100.1", "0.00420000"}, {"100.2", "1.00000000"}}
	bids := [][2]string{{"100.0", "2.00000000"}}
	x.feed(t, fmt.Sprintf(`[1,{"as":%s,"bs":%s},"book-10","XBT/USD"]`, krV1Levels(asks), krV1Levels(bids)))
	bids2 := [][2]string{{"100.0", "3.00000000"}}
	x.feed(t, fmt.Sprintf(`[1,{"b":%s,"c":"%d"},"book-10","XBT/USD"]`, krV1Levels(bids2), krakenSum(asks, bids2)))
	require.True(t, x.b.Live())
	require.Zero(t, x.b.Stats().ChecksumErrors)
	bids3 := [][2]string{{"100.0", "4.00000000"}}
	x.feed(t, fmt.Sprintf(`[1,{"b":%s,"c":"%d"},"book-10","XBT/USD"]`, krV1Levels(bids3), krakenSum(asks, bids2)))
	require.False(t, x.b.Live(), "a wrong book at the corrected precision")
}
