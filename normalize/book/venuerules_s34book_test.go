package book

import (
	"context"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// OKX "Order book channel" (books, books-l2-tbt, books50-l2-tbt): "prevSeqId
// of the next message = seqId of the current one"; a push with no change
// keeps the last seqId, with prevSeqId equal to it; after maintenance
// seqId may fall below prevSeqId, the next prevSeqId being the new seqId.
// Each rule holds only where prevSeqId names the book's last seqId: a
// "no change" push, or a reset, whose prevSeqId is past the book's last
// comes after pushes the book never got — a gap, never continuous (taken
// for a keep-alive or a reset, the book would go on silently without
// them). The keep-alive and the reset chained to the book are tested in
// TestOKXKeepAliveAndReset; these are the ones that do not chain.
func TestS34OKXNoChangeAndResetMustChain(t *testing.T) {
	for _, tc := range []struct {
		name       string
		seq, prev  uint64
		wantGapEnd uint64
	}{
		{"a no-change push past the book's seqId", 512, 512, 512},
		{"a reset whose prevSeqId is past the book's seqId", 3, 512, 512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bk, sink, _ := newRecBook(t, OKX, "BTC-USDT", nil)
			ctx := context.Background()
			require.NoError(t, bk.Apply(ctx, bookEv(schema.VenueOKX, schema.EventBookSnapshot, 0, 500, 0,
				[]schema.Level{lvl("100", "1")}, []schema.Level{lvl("101", "1")})))
			require.True(t, bk.Live())
			require.NoError(t, bk.Apply(ctx, bookEv(schema.VenueOKX, schema.EventBookUpdate, 0, tc.seq, tc.prev, nil, nil)))
			require.False(t, bk.Live(), "pushes 501..%d never came", tc.prev)
			requireMarker(t, sink, 1, ReasonGap)
			g := sink.ofType(schema.EventGap)[0]
			require.Equal(t, uint64(501), g.Control.GapFirstSeq)
			require.Equal(t, tc.wantGapEnd, g.Control.GapLastSeq)
		})
	}
}

// The venues' own worked checksum examples, against the book's checksum
// (the other tests compute theirs with the test's krakenSum, which would
// share a misreading of the rule):
//   - OKX ("Order book channel", Checksum: "bid1:ask1:bid2:ask2…", a side
//     that runs out leaves the other's levels alone, CRC32 as a signed
//     32-bit integer): bids 3366.1×7, 3366×6 and asks 3366.8×9, 3368×8
//     give "3366.1:7:3366.8:9:3366:6:3368:8", -1881014294; one bid
//     3366.1×7 and asks 3366.8×9, 3368×8, 3372×8 give
//     "3366.1:7:3366.8:9:3368:8:3372:8", 831078360.
//   - Kraken ("Spot Websockets (v2) Book Checksum": the point and then
//     the leading zeros removed from price and qty: "45285.2" → "452852",
//     "0.00100000" → "100000"; v1 "Book Checksum": "0.05000" with volume
//     "0.00000304" formats as "5000304"), asks before bids.
func TestS34ChecksumsOfTheVenuesExamples(t *testing.T) {
	okxSigned := func(v int32) uint32 { return uint32(v) }
	for _, tc := range []struct {
		name       string
		rule       Rule
		bids, asks []schema.Level
		sum        uint32
	}{
		{"OKX, as many bids as asks", OKX, []schema.Level{lvl("3366.1", "7"), lvl("3366", "6")},
			[]schema.Level{lvl("3366.8", "9"), lvl("3368", "8")}, okxSigned(-1881014294)},
		{"OKX, fewer bids", OKX, []schema.Level{lvl("3366.1", "7")},
			[]schema.Level{lvl("3366.8", "9"), lvl("3368", "8"), lvl("3372", "8")}, okxSigned(831078360)},
		{"Kraken v2, price and qty", withScales(KrakenV2, 1, 8), nil,
			[]schema.Level{lvl("45285.2", "0.00100000")}, crc32.ChecksumIEEE([]byte("452852100000"))},
		{"Kraken v1, leading zeros of both", withScales(KrakenV1, 5, 8), nil,
			[]schema.Level{lvl("0.05000", "0.00000304")}, crc32.ChecksumIEEE([]byte("5000304"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bk, sink, _ := newRecBook(t, tc.rule, "BTC-USDT", nil)
			ev := bookEv(tc.rule.Venue, schema.EventBookSnapshot, 0, 1, 0, tc.bids, tc.asks)
			ev.Book.Checksum, ev.Book.HasChecksum = tc.sum, true
			require.NoError(t, bk.Apply(context.Background(), ev))
			require.True(t, bk.Live(), "%+v", bk.Stats())
			require.Equal(t, uint64(1), bk.Stats().Checksums)
			require.Zero(t, bk.Stats().ChecksumErrors)
			require.Empty(t, sink.ofType(schema.EventGap))
			bk.mu.Lock()
			got := bk.checksumLocked()
			bk.mu.Unlock()
			require.Equal(t, tc.sum, got)
		})
	}
}

// withScales is r with the pair's precision given (Kraken).
func withScales(r Rule, px, qty int) Rule {
	r.PriceScale, r.QtyScale = px, qty
	return r
}
