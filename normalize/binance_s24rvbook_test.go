package normalize

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Binance "How to manage a local order book correctly": open the stream,
// buffer its events, then get a depth snapshot; drop the buffered events
// with u ≤ lastUpdateId and apply the rest. The snapshot is fetched while
// the stream runs, so by the time it is handed to HandleSnapshot the
// parser has usually published diffs past its lastUpdateId already: those
// are the buffered events the host applies after it, nothing was lost,
// and the next diff (chained to the last one published) is no gap. A gap
// marker there makes a host refetch, whose snapshot lags again: a loop.
func TestBinanceHandleSnapshotBehindPublishedDiffs(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		diff func(first, last int) string
	}{
		{"spot", func(first, last int) string {
			return fmt.Sprintf(`{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":%d,"u":%d,"b":[],"a":[]}`, first, last)
		}},
		{"usdm", func(first, last int) string {
			return fmt.Sprintf(`{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":%d,"u":%d,"pu":%d,"b":[],"a":[]}`, first, last, first-1)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, _, _ := newRecParser(t, nil)
			for first := 1001; first < 1050; first += 10 { // 1001..1050 published
				require.NoError(t, p.HandleBytes(ctx, []byte(c.diff(first, first+9)), 1))
			}
			require.NoError(t, p.HandleSnapshot(ctx, "BTCUSDT", []byte(`{"lastUpdateId":1030,"bids":[["1","1"]],"asks":[["2","1"]]}`), 2))
			require.NoError(t, p.HandleBytes(ctx, []byte(c.diff(1051, 1060)), 3))
			require.Zero(t, p.Stats().Gaps, "the diffs past the snapshot were published: nothing was lost")
		})
	}
	// A snapshot older than the run of diffs published since the last
	// one: the diffs between them were never published (the earlier
	// snapshot covered them), so the host's book, loaded from the older
	// snapshot, lacks them: the next diff is a gap.
	t.Run("older than the previous snapshot", func(t *testing.T) {
		p, _, _ := newRecParser(t, nil)
		require.NoError(t, p.HandleSnapshot(ctx, "BTCUSDT", []byte(`{"lastUpdateId":1040,"bids":[],"asks":[]}`), 1))
		require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1035,"u":1050,"b":[],"a":[]}`), 2))
		require.NoError(t, p.HandleSnapshot(ctx, "BTCUSDT", []byte(`{"lastUpdateId":1030,"bids":[],"asks":[]}`), 3))
		require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1051,"u":1060,"b":[],"a":[]}`), 4))
		require.Equal(t, uint64(1), p.Stats().Gaps)
	})
	// A snapshot from before a gap in the diffs published: the host's
	// book, loaded from it, lacks the diffs lost; the next diff is a gap
	// again (the snapshot does not join what follows).
	t.Run("before a gap in the published diffs", func(t *testing.T) {
		p, _, _ := newRecParser(t, nil)
		for _, d := range [][2]int{{1001, 1010}, {1021, 1030}} {
			require.NoError(t, p.HandleBytes(ctx, []byte(fmt.Sprintf(`{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":%d,"u":%d,"b":[],"a":[]}`, d[0], d[1])), 1))
		}
		require.Equal(t, uint64(1), p.Stats().Gaps)
		require.NoError(t, p.HandleSnapshot(ctx, "BTCUSDT", []byte(`{"lastUpdateId":1015,"bids":[],"asks":[]}`), 2))
		require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1031,"u":1040,"b":[],"a":[]}`), 3))
		require.Equal(t, uint64(2), p.Stats().Gaps)
	})
}
