package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// HandleSnapshot restarts the symbol's book sequence at the snapshot's
// lastUpdateId (its doc): the diffs that follow are checked against it
// by Binance's rule ("How to manage a local order book correctly": spot,
// the first diff has U ≤ lastUpdateId+1 ≤ u, and one with u ≤
// lastUpdateId is dropped; USDⓈ-M, U ≤ lastUpdateId ≤ u). A first diff
// that starts past the snapshot is a gap, marked; one the snapshot covers
// is a repeat, not published.
func TestBinanceHandleSnapshotRestartsSequence(t *testing.T) {
	ctx := context.Background()
	snap := []byte(`{"lastUpdateId":1000,"bids":[["1","1"]],"asks":[["2","1"]]}`)
	t.Run("spot diff past the snapshot", func(t *testing.T) {
		p, sink, _ := newRecParser(t, nil)
		require.NoError(t, p.HandleSnapshot(ctx, "BTCUSDT", snap, 1))
		require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1005,"u":1010,"b":[],"a":[]}`), 2))
		require.Equal(t, uint64(1), p.Stats().Gaps, "a first diff past lastUpdateId+1 is a gap")
		require.Equal(t, schema.EventGap, sink.got[1].Type)
		require.Equal(t, uint64(1001), sink.got[1].Control.GapFirstSeq)
		require.Equal(t, uint64(1004), sink.got[1].Control.GapLastSeq)
	})
	t.Run("spot diff the snapshot covers", func(t *testing.T) {
		p, sink, _ := newRecParser(t, nil)
		require.NoError(t, p.HandleSnapshot(ctx, "BTCUSDT", snap, 1))
		require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":990,"u":1000,"b":[],"a":[]}`), 2))
		require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":995,"u":1003,"b":[],"a":[]}`), 3))
		require.Zero(t, p.Stats().Gaps)
		require.Equal(t, uint64(1), p.Stats().Repeats, "u ≤ lastUpdateId is dropped")
		require.Len(t, sink.got, 2)
		require.Equal(t, uint64(1003), sink.got[1].Book.LastSeq)
	})
	t.Run("usdm first diff joins", func(t *testing.T) {
		p, _, _ := newRecParser(t, nil)
		require.NoError(t, p.HandleSnapshot(ctx, "BTCUSDT", snap, 1))
		require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":1003,"u":1009,"pu":1002,"b":[],"a":[]}`), 2))
		require.Equal(t, uint64(1), p.Stats().Gaps, "U > lastUpdateId: the snapshot is older than the stream")
	})
}

// FuzzBinanceRESTDepth: HandleSnapshot's kind, which restarts the book
// sequence, on any input.
func FuzzBinanceRESTDepth(f *testing.F) { fuzzKind(f, bnRESTDepth) }
