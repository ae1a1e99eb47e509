package book

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// krV2Levels writes v2 levels as JSON numbers, the text given.
func krV2Levels(ls [][2]string) string {
	var s []string
	for _, l := range ls {
		s = append(s, fmt.Sprintf(`{"price":%s,"qty":%s}`, l[0], l[1]))
	}
	return "[" + strings.Join(s, ",") + "]"
}

// padTo writes v as a number with exactly scale digits after the point
// (the pair's precision), as Kraken's checksum recipe formats it.
func padTo(v string, scale int) string {
	i := strings.IndexByte(v, '.')
	if i < 0 {
		if scale == 0 {
			return v
		}
		return v + "." + strings.Repeat("0", scale)
	}
	return v + strings.Repeat("0", scale-(len(v)-i-1))
}

func padLevels(ls [][2]string, ps, qs int) [][2]string {
	var out [][2]string
	for _, l := range ls {
		out = append(out, [2]string{padTo(l[0], ps), padTo(l[1], qs)})
	}
	return out
}

// Kraken "Spot Websockets (v2) Book Checksum": the checksum is over each
// price and qty at the pair's full precision (the instrument channel's
// price_precision and qty_precision). The docs' own v2 snapshot writes
// them as JSON numbers without trailing zeros ("price": 0.566, "qty":
// 18097.1547, on a pair of 4 and 8 decimals). A KrakenV2 book the host
// gave no PriceScale and QtyScale must not take such a book for a
// mismatch and resubscribe forever: it learns the precision from the
// venue's own checksum of the snapshot (the one precision that explains
// it), then checks every update at that precision.
func TestKrakenV2LearnsPrecisionFromChecksum(t *testing.T) {
	asks := [][2]string{{"0.5667", "4831.75496356"}, {"0.5668", "6658.2273"}, {"0.567", "18097.1547"}}
	bids := [][2]string{{"0.5666", "1.5"}, {"0.5665", "20"}, {"0.566", "11563.92544914"}}
	snap := fmt.Sprintf(`{"channel":"book","type":"snapshot","data":[{"symbol":"MATIC/USD","bids":%s,"asks":%s,"checksum":%d}]}`,
		krV2Levels(bids), krV2Levels(asks), krakenSum(padLevels(asks, 4, 8), padLevels(bids, 4, 8)))
	x := newPipe(t, normalize.NewKraken, KrakenV2, "MATIC-USD", nil)
	x.feed(t, snap)
	require.True(t, x.b.Live(), "a snapshot whose values the venue wrote without trailing zeros")
	require.Zero(t, x.b.Stats().ChecksumErrors)
	require.Equal(t, uint64(1), x.b.Stats().Checksums)

	// Updates are checked at the learned precision: a good one passes, a
	// wrong one fails.
	bids2 := [][2]string{{"0.5666", "2"}, {"0.5665", "20"}, {"0.566", "11563.92544914"}}
	x.feed(t, fmt.Sprintf(`{"channel":"book","type":"update","data":[{"symbol":"MATIC/USD","bids":[{"price":0.5666,"qty":2}],"asks":[],"checksum":%d,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`,
		krakenSum(padLevels(asks, 4, 8), padLevels(bids2, 4, 8))))
	require.True(t, x.b.Live())
	require.Equal(t, uint64(2), x.b.Stats().Checksums)
	x.feed(t, fmt.Sprintf(`{"channel":"book","type":"update","data":[{"symbol":"MATIC/USD","bids":[{"price":0.5666,"qty":3}],"asks":[],"checksum":%d,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`,
		krakenSum(padLevels(asks, 4, 8), padLevels(bids2, 4, 8))))
	require.False(t, x.b.Live(), "a wrong checksum at the learned precision")
	require.Equal(t, uint64(1), x.b.Stats().ChecksumErrors)
}

// A snapshot whose checksum no precision explains is a mismatch: learning
// must not turn a wrong book into an unchecked one.
func TestKrakenV2UnexplainedChecksumIsMismatch(t *testing.T) {
	asks := [][2]string{{"0.5667", "4831.75496356"}}
	bids := [][2]string{{"0.5666", "1.5"}}
	wrong := [][2]string{{"0.5666", "1.6"}}
	snap := fmt.Sprintf(`{"channel":"book","type":"snapshot","data":[{"symbol":"MATIC/USD","bids":%s,"asks":%s,"checksum":%d}]}`,
		krV2Levels(bids), krV2Levels(asks), krakenSum(padLevels(asks, 4, 8), padLevels(wrong, 4, 8)))
	x := newPipe(t, normalize.NewKraken, KrakenV2, "MATIC-USD", nil)
	x.feed(t, snap)
	require.False(t, x.b.Live())
	require.Equal(t, uint64(1), x.b.Stats().ChecksumErrors)
	require.Equal(t, 1, x.resubs)
}

// Kraken v1 sends volumes as strings of the pair's lot decimals (8 for
// most): "100000000000.00000000" is 20 digits, past a Decimal's 63-bit
// mantissa, which keeps the value exact without its trailing zeros. The
// checksum (Kraken "Spot Websockets (v1) Book Checksum") is over the
// digits as sent, zeros included: the book must still verify it, not
// resync a good book of a coin with a huge supply.
func TestKrakenV1HugeVolumeChecksum(t *testing.T) {
	for _, huge := range []string{"100000000000.00000000", "92233720368.54775900", "1000000000000000.00000000"} {
		t.Run(huge, func(t *testing.T) {
			x := newPipe(t, normalize.NewKraken, KrakenV1, "SHIB-USD", nil)
			asks := [][2]string{{"0.00001235", "5000.00000000"}, {"0.00001236", "7000.50000000"}}
			bids := [][2]string{{"0.00001234", "1000.00000000"}}
			x.feed(t, fmt.Sprintf(`[9,{"as":%s,"bs":%s},"book-10","SHIB/USD"]`, krV1Levels(asks), krV1Levels(bids)))
			require.True(t, x.b.Live())
			bids2 := [][2]string{{"0.00001234", "1000.00000000"}, {"0.00001233", huge}}
			x.feed(t, fmt.Sprintf(`[9,{"b":%s,"c":"%d"},"book-10","SHIB/USD"]`, krV1Levels(bids2[1:]), krakenSum(asks, bids2)))
			require.True(t, x.b.Live(), "a huge volume, its checksum over the digits sent")
			require.Zero(t, x.b.Stats().ChecksumErrors)
			require.Equal(t, uint64(1), x.b.Stats().Checksums)
			// And at the top of the book, best bid.
			bids3 := [][2]string{{"0.00001234", huge}, {"0.00001233", huge}}
			x.feed(t, fmt.Sprintf(`[9,{"b":%s,"c":"%d"},"book-10","SHIB/USD"]`, krV1Levels(bids3[:1]), krakenSum(asks, bids3)))
			require.True(t, x.b.Live())
			require.Zero(t, x.b.Stats().ChecksumErrors)
		})
	}
}

// A Kraken v2 venue at every precision a pair may have (prices and
// quantities of 0 to 10 decimals), sending its values as JSON numbers
// without trailing zeros, drives a KrakenV2 book that was given no
// precision through random changes: every checksum — the snapshot's and
// each update's — verifies, none mismatches, and the book stays the view.
func TestKrakenV2AnyPrecisionUnknown(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 1))
	for range 12 {
		ps, qs := rng.IntN(11), rng.IntN(11)
		t.Run(fmt.Sprintf("price %d qty %d", ps, qs), func(t *testing.T) {
			truth := KrakenV2
			truth.PriceScale, truth.QtyScale = ps, qs
			bk, sink, _ := newRecBook(t, KrakenV2, "BTC-USD", nil)
			v := newViewVenue(KrakenV2.Depth, true)
			v.priceScale, v.qtyScale = ps, qs
			for i := range int64(30) {
				v.full[0][1000000-10*i] = 1 + rng.Int64N(1e6)
				v.full[1][1000010+10*i] = 1 + rng.Int64N(1e6)
			}
			v.view[0], v.view[1] = v.top(0), v.top(1)
			ctx := context.Background()
			require.NoError(t, bk.Apply(ctx, v.event(t, truth, schema.EventBookSnapshot, 0, nil)))
			require.True(t, bk.Live(), "snapshot")
			for n := range 300 {
				side := rng.IntN(2)
				sign := int64(1 - 2*side)
				price := 1000005 - sign*(5+10*rng.Int64N(40))
				var lots int64
				if rng.IntN(3) > 0 {
					lots = 1 + rng.Int64N(1e6)
				}
				msg := v.set(side, price, lots)
				if msg == nil {
					continue
				}
				require.NoError(t, bk.Apply(ctx, v.event(t, truth, schema.EventBookUpdate, side, msg)))
				require.True(t, bk.Live(), "message %d", n)
			}
			require.Zero(t, bk.Stats().ChecksumErrors)
			require.Empty(t, sink.ofType(schema.EventGap))
			requireView(t, bk, v, "at the end")
		})
	}
}

// A Kraken book of Depth 0 follows the deepest view its messages name
// ("book-10", a v2 ack's depth: the package doc, "Set Rule.Depth to the
// depth subscribed (or 0)"); it must also keep only that view's levels,
// as Kraken sends no delete for a level pushed out of it ("after each
// update, the book should be truncated to your subscribed depth", Kraken
// "Spot Websockets (v2) Book Checksum"). Kept whole, the level pushed out
// comes back into the top 10 when the better one goes, and the venue's
// checksum — over its view — fails: a good book resynced.
func TestKrakenDepthZeroKeepsTheView(t *testing.T) {
	rule := KrakenV1
	rule.Depth = 0
	x := newPipe(t, normalize.NewKraken, rule, "BTC-USD", nil)
	var asks, bids [][2]string
	for i := range 10 {
		asks = append(asks, [2]string{fmt.Sprintf("%d.10000", 50001+i), "0.50000000"})
		bids = append(bids, [2]string{fmt.Sprintf("%d.00000", 50000-i), "1.00000000"})
	}
	x.feed(t, fmt.Sprintf(`[1,{"as":%s,"bs":%s},"book-10","XBT/USD"]`, krV1Levels(asks), krV1Levels(bids)))
	require.True(t, x.b.Live())
	// A better ask pushes the 10th out of the view (no delete is sent)…
	asks2 := append([][2]string{{"50000.50000", "0.25000000"}}, asks[:9]...)
	x.feed(t, fmt.Sprintf(`[1,{"a":%s,"c":"%d"},"book-10","XBT/USD"]`, krV1Levels(asks2[:1]), krakenSum(asks2, bids)))
	// …then goes, and the venue sends the level that enters its view at
	// the back: a new one, not the one pushed out.
	asks3 := append(append([][2]string{}, asks[:9]...), [2]string{"50020.10000", "3.00000000"})
	x.feed(t, fmt.Sprintf(`[1,{"a":[["50000.50000","0.00000000","1700000000.2"],["50020.10000","3.00000000","1700000000.2","r"]],"c":"%d"},"book-10","XBT/USD"]`, krakenSum(asks3, bids)))
	require.Zero(t, x.b.Stats().ChecksumErrors, "the level pushed out of the view came back")
	require.True(t, x.b.Live())
	var ev schema.CanonicalEvent
	x.b.Top(0, &ev)
	require.Len(t, ev.Book.Asks, 10)
}
